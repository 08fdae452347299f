"""Lookups through the gateway, shaped as clients send them: 1201 医药机构信息获取, 1901
字典表查询, 2001 人员待遇享受检查, 5202 诊断信息查询, 5205 慢特病用药记录查询, 5206 人员累计
信息查询 (equal to the sums of the person's settlements this year), and 1101's 校验位 check.
Each transaction is called with `input` as an object and as a JSON string."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from settle_factories import (
    DRUG_B,
    EXAM_A,
    HOSP,
    HOSP2,
    PHARM,
    echo,
    fee_line,
    register_input,
    settle_input,
)
from sqlalchemy import select, update

from yibao.kit.clock import local_naive_now
from yibao.storage.tables import psn_insu, setl


def _as_text(input_: dict[str, Any]) -> str:
    """The input as a JSON string, amounts as strings (as many HIS send it)."""
    return json.dumps(input_, ensure_ascii=False, default=str)


async def both(his: Any, infno: str, input_: dict[str, Any]) -> Any:
    """The answer to `input_` sent as an object and as a JSON string: they must be equal."""
    first = await his.ok(infno, input_)
    second = await his.ok(infno, _as_text(input_))
    assert first == second
    return first


async def refused(his: Any, infno: str, input_: Any, *fragments: str) -> str:
    answer = await his.call(infno, input_)
    assert answer["infcode"] == -1, answer
    for fragment in fragments:
        assert fragment in answer["err_msg"], answer["err_msg"]
    return str(answer["err_msg"])


def _today() -> str:
    return f"{local_naive_now():%Y-%m-%d %H:%M:%S}"


# ------------------------------------------------------------------------------- 1101


async def test_1101_refuses_an_id_card_number_with_a_wrong_check_digit(
    world: dict[str, Any],
) -> None:
    his = world["his"]
    good = "110101199003074514"
    bad = good[:17] + "5"
    assert (await his.ok("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": good}}))[
        "baseinfo"
    ]["psn_no"] == "P0001"
    msg = await refused(
        his, "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": bad}}, "data.mdtrt_cert_no"
    )
    assert "校验位" in msg and "应为 '4'" in msg
    assert "未查询到参保人员" not in msg
    # certno with psn_cert_type 01 is checked too (the voucher itself is fine)
    await refused(
        his,
        "1101",
        _as_text(
            {
                "data": {
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": good,
                    "psn_cert_type": "01",
                    "certno": bad,
                }
            }
        ),
        "data.certno",
        "校验位",
    )
    # other certificate types are not checked that way: an unknown number is just not found
    msg = await refused(
        his,
        "1101",
        {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": bad, "psn_cert_type": "08"}},
        "未查询到参保人员",
    )
    assert "校验位" not in msg
    # a lower-case x check character is the X it stands for
    assert (
        await his.call(
            "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "11010119800101001x"}}
        )
    )["err_msg"].find("应为 '0'") >= 0


# ------------------------------------------------------------------------------- 1201


async def test_1201_institutions_by_code_name_and_type(world: dict[str, Any]) -> None:
    his = world["his"]
    out = await both(his, "1201", {"medinsinfo": {"fixmedins_code": HOSP2}})
    assert [r["fixmedins_code"] for r in out["medinsinfo"]] == [HOSP2]
    row = out["medinsinfo"][0]
    assert row["fixmedins_type"] == "1" and row["hosp_lv"] == "3"
    assert row["fixmedins_name"] == f"测试机构{HOSP2}"
    assert set(row) >= {"fixmedins_code", "fixmedins_name", "uscc", "fixmedins_type", "hosp_lv"}
    pharmacies = await both(his, "1201", {"medinsinfo": {"fixmedins_type": "2"}})
    assert [r["fixmedins_code"] for r in pharmacies["medinsinfo"]] == [PHARM]
    named = await both(his, "1201", {"medinsinfo": {"fixmedins_name": "测试机构H"}})
    assert [r["fixmedins_code"] for r in named["medinsinfo"]] == sorted([HOSP, HOSP2])
    assert named["total"] == 2
    page = await both(
        his, "1201", {"medinsinfo": {"fixmedins_type": "1", "page_num": "2", "page_size": 1}}
    )
    assert [r["fixmedins_code"] for r in page["medinsinfo"]] == [sorted([HOSP, HOSP2])[1]]
    # a LIKE wildcard in the name matches only itself
    assert (await his.ok("1201", {"medinsinfo": {"fixmedins_name": "%"}}))["medinsinfo"] == []
    await refused(his, "1201", {"medinsinfo": {"fixmedins_type": "7"}}, "medinsinfo.fixmedins_type")
    await refused(his, "1201", {"medinsinfo": {"page_size": "0"}}, "medinsinfo.page_size")


# ------------------------------------------------------------------------------- 1901


async def test_1901_dictionaries_by_type_with_paging(world: dict[str, Any]) -> None:
    his = world["his"]
    rows = await both(his, "1901", {"data": {"type": "insutype", "parentValue": ""}})
    assert rows[0] == {
        "type": "insutype",
        "label": "职工基本医疗保险",
        "value": "310",
        "parent_value": None,
        "sort": 1,
        "vali_flag": "1",
    }
    assert "390" in {r["value"] for r in rows}
    med_types = await both(his, "1901", {"data": {"type": "med_type"}})
    page = await both(his, "1901", {"data": {"type": "med_type", "page_num": 2, "page_size": "3"}})
    assert page == med_types[3:6]
    regions = await both(his, "1901", {"data": {"type": "admdvs"}})
    assert any(r["value"] == "110000" for r in regions)
    assert await his.ok("1901", {"data": {"type": "gend", "vali_flag": "0"}}) == []
    msg = await refused(his, "1901", {"data": {"type": "no_such_dict"}}, "data.type", "未知的字典")
    assert "insutype" in msg  # the known names are listed
    await refused(his, "1901", {"data": {}}, "data.type", "必填")


# ------------------------------------------------------------------------------- 2001


def _check(psn_no: str, insutype: str, med_type: str = "11", **extra: Any) -> dict[str, Any]:
    return {
        "data": {
            "psn_no": psn_no,
            "insutype": insutype,
            "fixmedins_code": HOSP,
            "med_type": med_type,
            "begntime": _today(),
            **extra,
        }
    }


async def test_2001_entitled_person_and_the_funds_that_pay(world: dict[str, Any]) -> None:
    his = world["his"]
    out = await both(his, "2001", _check("P0001", "310"))
    rows = out["trtinfo"]
    assert {r["trt_enjymnt_flag"] for r in rows} == {"1"}
    funds = {r["fund_pay_type"] for r in rows}
    assert "310100" in funds and "310200" in funds
    assert rows[0]["begndate"] == "2015-01-01"
    resident = (await both(his, "2001", _check("P0003", "390", "21")))["trtinfo"]
    assert {r["fund_pay_type"] for r in resident} >= {"390100", "390200"}
    # 门诊慢特病 and 转外诊治 need a registration: the answer says which
    chronic = (await both(his, "2001", _check("P0001", "310", "14")))["trtinfo"]
    assert chronic[0]["trt_enjymnt_flag"] == "1"
    assert "慢特病备案" in chronic[0]["trt_chk_rslt"]
    transfer = (await both(his, "2001", _check("P0001", "310", "23")))["trtinfo"]
    assert "转院备案" in transfer[0]["trt_chk_rslt"]


async def test_2001_reasons_when_not_entitled(world: dict[str, Any]) -> None:
    his, platform = world["his"], world["platform"]
    # not insured under that type
    out = await both(his, "2001", _check("P0001", "390"))
    assert out["trtinfo"][0]["trt_enjymnt_flag"] == "0"
    assert "未参加险种 390" in out["trtinfo"][0]["trt_chk_rslt"]
    # suspended: status and pause date both named; begndate/enddate are the insurance's
    paused = date.today() - timedelta(days=10)
    with platform.db.engine.begin() as conn:
        conn.execute(
            update(psn_insu)
            .where(psn_insu.c.psn_no == "P0002")
            .values(psn_insu_stas="2", paus_insu_date=paused)
        )
    row = (await both(his, "2001", _check("P0002", "310")))["trtinfo"][0]
    assert row["trt_enjymnt_flag"] == "0" and row["fund_pay_type"] == "310100"
    assert "暂停参保" in row["trt_chk_rslt"] and paused.isoformat() in row["trt_chk_rslt"]
    assert row["enddate"] == paused.isoformat()
    # a day before the insurance began
    row = (await both(his, "2001", _check("P0001", "310", begntime="2010-06-01 09:00:00")))[
        "trtinfo"
    ][0]
    assert row["trt_enjymnt_flag"] == "0" and "晚于就诊日期" in row["trt_chk_rslt"]
    await refused(his, "2001", _check("P9999", "310"), "data.psn_no", "人员编号不存在")
    await refused(his, "2001", _check("P0001", "999"), "data.insutype")
    await refused(his, "2001", _check("P0001", "310", "99"), "data.med_type")
    await refused(his, "2001", _check("P0001", "310", begntime="tomorrow"), "data.begntime")


# ------------------------------------------------------------------------------- 5202


DISEINFO = [
    {
        "diag_type": "1",
        "diag_srt_no": 1,
        "diag_code": "I10.x00",
        "diag_name": "高血压",
        "diag_dept": "内科",
        "dise_dor_no": "D110102000001",
        "dise_dor_name": "李医生",
        "diag_time": "2024-05-20 10:00:00",
        "vali_flag": "1",
    },
    {
        "diag_type": "1",
        "diag_srt_no": 2,
        "diag_code": "E11.900",
        "diag_name": "2型糖尿病",
        "diag_dept": "内科",
        "dise_dor_no": "D110102000001",
        "dise_dor_name": "李医生",
        "diag_time": "2024-05-20 10:05:00",
        "vali_flag": "1",
    },
]


async def _chronic_visit(his: Any, p: Any, otp: str) -> str:
    # 门诊慢特病 needs the person's chronic-disease filing (2503) for the visit's disease
    filing = {
        "psn_no": p.psn_no,
        "insutype": p.insutype,
        "opsp_dise_code": "M03900",
        "opsp_dise_name": "高血压",
        "insu_optins": "110199",
        "begndate": "2024-01-01",
        "enddate": "",
    }
    filed = await his.call("2503", {"data": filing})
    assert filed["infcode"] == 0 or "备案" in filed["err_msg"], filed
    out = await his.ok("2201", register_input(p, ipt_otp_no=otp))
    mdtrt_id = str(out["data"]["mdtrt_id"])
    await his.ok(
        "2203",
        {
            "mdtrtinfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": p.psn_no,
                "med_type": "14",
                "begntime": _today(),
                "dise_codg": "M03900",
                "dise_name": "高血压",
            },
            "diseinfo": DISEINFO,
        },
    )
    return mdtrt_id


async def test_5202_diagnoses_of_own_visit(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    p = world["people"]["emp"]
    mdtrt_id = await _chronic_visit(his, p, "OTP-5202")
    out = await both(his, "5202", {"data": {"psn_no": p.psn_no, "mdtrt_id": mdtrt_id}})
    rows = out["diseinfo"]
    assert [r["diag_code"] for r in rows] == ["I10.x00", "E11.900"]
    assert rows[0]["diag_time"] == "2024-05-20 10:00:00"
    assert rows[0]["mdtrt_id"] == mdtrt_id and rows[0]["diag_srt_no"] == 1
    # a read repeated under one msgid answers again (no 报文ID重复)
    msgid = his.msgid()
    query = {"data": {"psn_no": p.psn_no, "mdtrt_id": mdtrt_id}}
    assert await his.ok("5202", query, msgid=msgid) == await his.ok("5202", query, msgid=msgid)
    # another institution's visit is answered like a missing one
    await refused(
        his2, "5202", {"data": {"psn_no": p.psn_no, "mdtrt_id": mdtrt_id}}, "data.mdtrt_id"
    )
    await refused(his, "5202", {"data": {"psn_no": "P0002", "mdtrt_id": mdtrt_id}}, "data.psn_no")
    await refused(his, "5202", {"data": {"psn_no": p.psn_no}}, "data.mdtrt_id", "必填")


# ------------------------------------------------------------------------------- 5205


async def _settle(his: Any, p: Any, mdtrt_id: str, lines: list[dict[str, Any]], **kw: Any) -> Any:
    await his.ok("2204", {"feedetail": lines})
    total = sum((Decimal(str(line["det_item_fee_sumamt"])) for line in lines), Decimal("0"))
    pre = await his.ok("2206", settle_input(p, mdtrt_id, total, **kw))
    return await his.ok("2207", settle_input(p, mdtrt_id, total, **kw, **echo(pre)))


async def test_5205_chronic_drug_lines_of_a_period(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    p = world["people"]["emp"]
    mdtrt_id = await _chronic_visit(his, p, "OTP-5205")
    lines = [
        fee_line(
            "1",
            mdtrt_id,
            p.psn_no,
            DRUG_B,
            "120.00",
            cnt="2",
            pric="60.00",
            sin_dos_dscr="1片",
            used_frqu_dscr="qd",
            prd_days=Decimal("30"),
        ),
        fee_line("2", mdtrt_id, p.psn_no, EXAM_A, "50.00"),
    ]
    await _settle(his, p, mdtrt_id, lines, med_type="14")
    # an ordinary visit's drug is not a chronic-disease drug line
    plain = str(
        (await his.ok("2201", register_input(p, ipt_otp_no="OTP-PLAIN")))["data"]["mdtrt_id"]
    )
    await _settle(his, p, plain, [fee_line("1", plain, p.psn_no, DRUG_B, "30.00")])
    now = local_naive_now()
    period = {
        "psn_no": p.psn_no,
        "begntime": f"{now - timedelta(days=1):%Y-%m-%d %H:%M:%S}",
        "endtime": f"{now + timedelta(days=1):%Y-%m-%d %H:%M:%S}",
    }
    rows = (await both(his, "5205", {"data": period}))["feedetail"]
    assert [(r["mdtrt_id"], r["feedetl_sn"]) for r in rows] == [(mdtrt_id, "1")]
    row = rows[0]
    assert row["med_list_codg"] == DRUG_B and row["med_type"] == "14"
    assert row["cnt"] == Decimal("2") and row["det_item_fee_sumamt"] == Decimal("120.00")
    assert row["setl_id"] and row["opsp_dise_code"] == "M03900"
    assert row["used_frqu_dscr"] == "qd"
    # a period before the visit has none; another institution sees none
    earlier = {**period, "begntime": "2020-01-01 00:00:00", "endtime": "2020-12-31 23:59:59"}
    assert (await both(his, "5205", {"data": earlier}))["feedetail"] == []
    assert (await both(his2, "5205", {"data": period}))["feedetail"] == []
    await refused(
        his, "5205", {"data": {**period, "endtime": "2020-01-01 00:00:00"}}, "data.endtime"
    )
    await refused(his, "5205", {"data": {"psn_no": p.psn_no}}, "data.begntime", "必填")


# ------------------------------------------------------------------------------- 5206


async def test_5206_equals_the_sums_of_this_years_settlements(world: dict[str, Any]) -> None:
    his, his2, platform = world["his"], world["his2"], world["platform"]
    p = world["people"]["emp"]
    # several bills at two institutions, one of them chronic, one reversed
    for i, (client, amount) in enumerate([(his, "3000.00"), (his2, "8000.00"), (his, "1500.00")]):
        out = await client.ok("2201", register_input(p, ipt_otp_no=f"OTP-5206-{i}"))
        mdtrt_id = str(out["data"]["mdtrt_id"])
        await _settle(client, p, mdtrt_id, [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, amount)])
    chronic = await _chronic_visit(his, p, "OTP-5206-mtb")
    done = await _settle(
        his, p, chronic, [fee_line("1", chronic, p.psn_no, DRUG_B, "4000.00")], med_type="14"
    )
    await his.ok(
        "2208",
        {"data": {"setl_id": done["setlinfo"]["setl_id"], "mdtrt_id": chronic, "psn_no": p.psn_no}},
    )
    year = local_naive_now().year
    out = await both(his, "5206", {"data": {"psn_no": p.psn_no, "cum_ym": f"{year}12"}})
    rows = [r for r in out["cuminfo"] if r["insutype"] == "310"]
    assert {r["year"] for r in rows} == {str(year)}
    with platform.db.read() as conn:
        settled = conn.execute(
            select(setl.c.hifp_pay, setl.c.hifob_pay).where(
                setl.c.psn_no == p.psn_no, setl.c.year == year
            )
        ).all()
    assert len(settled) == 5  # four settlements and one reversal record
    pool = sum((r.hifp_pay for r in settled), Decimal("0"))
    topup = sum((r.hifob_pay for r in settled), Decimal("0"))
    assert pool > 0
    pool_rows = [r for r in rows if r["cum_type_code"].endswith(".pool_paid")]
    assert sum((r["cum"] for r in pool_rows), Decimal("0")) == pool
    assert {r["fund_pay_type"] for r in pool_rows} == {"310100"}
    hifob = [r for r in rows if r["cum_type_code"] == "hifob.paid"]
    assert sum((r["cum"] for r in hifob), Decimal("0")) == topup
    # the caps come from the policy book; the balance is what is left under each
    capped = [r for r in pool_rows if r["cum_lmt"] is not None]
    assert capped
    for r in capped:
        assert r["cum_balc"] == max(Decimal("0.00"), r["cum_lmt"] - r["cum"])
    # the employee's inpatient/chronic pool cap (shared counter) is listed, 0 after the reversal
    ipt = next(r for r in rows if r["cum_type_code"] == "ipt.pool_paid")
    assert ipt["cum"] == Decimal("0.00") and ipt["cum_lmt"] == Decimal("100000")
    # a past year: nothing accumulated, the caps still listed
    past = await both(his, "5206", {"data": {"psn_no": p.psn_no, "cum_ym": "202401"}})
    assert all(r["cum"] == Decimal("0.00") for r in past["cuminfo"])
    # no cum_ym = this year
    assert await both(his, "5206", {"data": {"psn_no": p.psn_no}}) == out
    await refused(his, "5206", {"data": {"psn_no": p.psn_no, "cum_ym": "2024-1"}}, "data.cum_ym")
    await refused(his, "5206", {"data": {"psn_no": p.psn_no, "cum_ym": "202413"}}, "data.cum_ym")
    await refused(his, "5206", {"data": {"psn_no": "P9999"}}, "data.psn_no")
