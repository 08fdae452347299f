"""Filings through the gateway: 2501/2502 转院备案, 2503/2504 人员慢特病备案, 2699 生育备案, the
queries 5301–5304, and their effect on settlement — 2503 then 2207 with med_type 14 gets the
门慢门特 benefits and after 2504 it does not; 2501 is what 转外诊治 (med_type 23) requires."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from settle_factories import EXAM_A, HOSP, HOSP2, echo, fee_line, register_input, settle_input
from sqlalchemy import select

from yibao.storage.tables import trt_dcla


def _chronic(p: Any, code: str = "M03900", name: str = "高血压", **extra: Any) -> dict[str, Any]:
    data = {
        "psn_no": p.psn_no,
        "insutype": p.insutype,
        "opsp_dise_code": code,
        "opsp_dise_name": name,
        "tel": "13800000000",
        "addr": "北京市东城区",
        "insu_optins": "110199",
        "ide_fixmedins_no": HOSP,
        "ide_fixmedins_name": "测试医院",
        # a public client formats the dates with the time of day
        "hosp_ide_date": "2024-01-05 00:00:00",
        "diag_dr_codg": "D110102000001",
        "diag_dr_name": "李医生",
        "begndate": "2024-01-01",
        "enddate": "",
    }
    data.update(extra)
    return {"data": data}


def _transfer(p: Any, to: str | None = HOSP2, **extra: Any) -> dict[str, Any]:
    data = {
        "psn_no": p.psn_no,
        "insutype": p.insutype,
        "tel": "13800000000",
        "addr": "北京市东城区",
        "insu_optins": "110199",
        "diag_code": "I21.900",
        "diag_name": "急性心肌梗死",
        "dise_cond_dscr": "需介入治疗",
        "reflin_medins_no": to,
        "reflin_medins_name": "上级医院",
        "mdtrt_area_admdvs": "110102",
        "hosp_agre_refl_flag": "1",
        "refl_type": "1",
        "refl_date": "2024-05-01",
        "refl_rea": "本院无条件",
        "refl_opnn": "同意转院",
        "begndate": "2024-05-01 00:00:00",
        "enddate": "2099-12-31",
    }
    data.update(extra)
    return {"refmedin": data}


async def _chronic_visit(his: Any, p: Any, total: str = "3000.00") -> str:
    mdtrt_id = str((await his.ok("2201", register_input(p)))["data"]["mdtrt_id"])
    await his.ok(
        "2203",
        {
            "mdtrtinfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": p.psn_no,
                "med_type": "14",
                "dise_codg": "M03900",
                "dise_name": "高血压",
            },
            "diseinfo": [],
        },
    )
    await his.ok("2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, total)]})
    return mdtrt_id


async def test_chronic_filing_entitles_med_type_14_and_its_undo_withdraws_it(
    world: dict[str, Any],
) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    mdtrt_id = await _chronic_visit(his, p)

    # no filing: 门诊慢特病 is refused, naming the missing 2503 filing; 普通门诊 still settles
    refused = await his.call("2206", settle_input(p, mdtrt_id, "3000.00", med_type="14"))
    assert refused["infcode"] == -1
    assert "data.med_type" in refused["err_msg"] and "2503" in refused["err_msg"]
    plain = (await his.ok("2206", settle_input(p, mdtrt_id, "3000.00")))["setlinfo"]
    assert plain["act_pay_dedc"] == Decimal("1800.00")  # the outpatient deductible

    # 2503 as a JSON string, as many HIS send `input`
    filed = await his.ok("2503", json.dumps(_chronic(p)))
    sn = filed["result"]["trt_dcla_detl_sn"]
    assert sn
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "3000.00", med_type="14"))
    info = pre["setlinfo"]
    # 门慢 rule of the demo region (职工 在职, 二级): its own deductible 1300, then 87 %
    assert info["med_type"] == "14"
    assert info["act_pay_dedc"] == Decimal("1300.00")
    assert info["hifp_pay"] == Decimal("1479.00")  # (3000 − 1300) × 0.87
    assert info["hifp_pay"] > plain["hifp_pay"]

    # 2504 undoes it: the pre-settlement of med_type 14 is refused again …
    await his.ok("2504", {"data": {"trt_dcla_detl_sn": sn, "psn_no": p.psn_no, "memo": "误报"}})
    again = await his.call("2207", settle_input(p, mdtrt_id, "3000.00", med_type="14", **echo(pre)))
    assert again["infcode"] == -1 and "2503" in again["err_msg"]
    # … and the undo is a flag with its time, never a delete
    with world["platform"].db.read() as conn:
        row = conn.execute(select(trt_dcla)).mappings().one()
    assert row["vali_flag"] == "0" and row["revs_time"] is not None
    assert row["revs_memo"] == "误报" and row["fixmedins_code"] == HOSP
    twice = await his.call("2504", {"data": {"trt_dcla_detl_sn": sn, "psn_no": p.psn_no}})
    assert twice["infcode"] == -1 and "已撤销" in twice["err_msg"]

    # filed again: 2207 settles on the 门慢 benefits
    await his.ok("2503", _chronic(p))
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "3000.00", med_type="14"))
    done = await his.ok("2207", settle_input(p, mdtrt_id, "3000.00", med_type="14", **echo(pre)))
    assert done["setlinfo"]["setl_id"] and done["setlinfo"]["hifp_pay"] == Decimal("1479.00")


async def test_chronic_filing_must_be_for_the_visits_disease(world: dict[str, Any]) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    await his.ok("2503", _chronic(p, "M01600", "糖尿病"))
    mdtrt_id = await _chronic_visit(his, p)  # the visit names M03900 高血压
    refused = await his.call("2206", settle_input(p, mdtrt_id, "3000.00", med_type="14"))
    assert refused["infcode"] == -1 and "M03900" in refused["err_msg"]


async def test_chronic_filing_out_of_its_period_does_not_entitle(world: dict[str, Any]) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    await his.ok("2503", _chronic(p, begndate="2020-01-01", enddate="2020-12-31"))
    mdtrt_id = await _chronic_visit(his, p)
    refused = await his.call("2206", settle_input(p, mdtrt_id, "3000.00", med_type="14"))
    assert refused["infcode"] == -1 and "2503" in refused["err_msg"]


async def test_chronic_filing_refusals_name_the_field(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    p = world["people"]["emp"]
    bad_code = await his.call("2503", _chronic(p, "I10.x00"))
    assert bad_code["infcode"] == -1 and "data.opsp_dise_code" in bad_code["err_msg"]
    missing = await his.call("2503", _chronic(p, begndate=""))
    assert missing["infcode"] == -1 and "data.begndate" in missing["err_msg"]
    backwards = await his.call("2503", _chronic(p, enddate="2023-01-01"))
    assert backwards["infcode"] == -1 and "data.enddate" in backwards["err_msg"]
    nobody = await his.call("2503", _chronic(p, psn_no="P9999"))
    assert nobody["infcode"] == -1 and "data.psn_no" in nobody["err_msg"]
    sn = (await his.ok("2503", _chronic(p)))["result"]["trt_dcla_detl_sn"]
    overlap = await his.call("2503", _chronic(p, begndate="2024-06-01"))
    assert overlap["infcode"] == -1 and "data.opsp_dise_code" in overlap["err_msg"]
    # only the filing institution may undo it; another's is answered as missing
    other = await his2.call("2504", {"data": {"trt_dcla_detl_sn": sn, "psn_no": p.psn_no}})
    assert other["infcode"] == -1 and "data.trt_dcla_detl_sn" in other["err_msg"]
    wrong_psn = await his.call("2504", {"data": {"trt_dcla_detl_sn": sn, "psn_no": "P0002"}})
    assert wrong_psn["infcode"] == -1 and "data.psn_no" in wrong_psn["err_msg"]
    # a transfer filing's number is not a chronic filing's
    tsn = (await his.ok("2501", _transfer(p)))["result"]["trt_dcla_detl_sn"]
    kind = await his.call("2504", {"data": {"trt_dcla_detl_sn": tsn, "psn_no": p.psn_no}})
    assert kind["infcode"] == -1


async def test_5301_and_5302_list_the_valid_filings(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    p = world["people"]["emp"]
    sn = (await his.ok("2503", _chronic(p)))["result"]["trt_dcla_detl_sn"]
    await his.ok("2503", _chronic(p, "M01600", "糖尿病"))
    await his.ok("2501", _transfer(p))
    await his.ok("2504", {"data": {"trt_dcla_detl_sn": sn, "psn_no": p.psn_no}})
    # any institution treating the person sees the entitlement
    out = await his2.ok("5301", json.dumps({"data": {"psn_no": p.psn_no}}))
    assert out["feedetail"] == [
        {
            "opsp_dise_code": "M01600",
            "opsp_dise_name": "糖尿病",
            "begndate": "2024-01-01",
            "enddate": None,
        }
    ]
    fixed = (await his.ok("5302", {"data": {"psn_no": p.psn_no}}))["psnfixmedin"]
    assert [(r["biz_appy_type"], r["fixmedins_code"]) for r in fixed] == [
        ("01", HOSP),
        ("02", HOSP2),
    ]
    assert [r["fix_srt_no"] for r in fixed] == ["1", "2"]
    only = await his.ok("5302", {"data": {"psn_no": p.psn_no, "biz_appy_type": "02"}})
    assert [r["fixmedins_code"] for r in only["psnfixmedin"]] == [HOSP2]
    bad = await his.call("5302", {"data": {"psn_no": p.psn_no, "biz_appy_type": "99"}})
    assert bad["infcode"] == -1 and "data.biz_appy_type" in bad["err_msg"]
    missing = await his.call("5301", {"data": {}})
    assert missing["infcode"] == -1 and "data.psn_no" in missing["err_msg"]


# ------------------------------------------------------------------ 转院 and med_type 23


def _admission(p: Any, med_type: str = "23") -> dict[str, Any]:
    return {
        "mdtrtinfo": {
            "psn_no": p.psn_no,
            "insutype": p.insutype,
            "begntime": "2024-05-02 08:00:00",
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": p.certno,
            "med_type": med_type,
            "ipt_no": "IPT0023",
            "atddr_no": "D1",
            "chfpdr_name": "王医生",
            "adm_diag_dscr": "急性心肌梗死",
            "adm_dept_codg": "A03",
            "adm_dept_name": "内科",
            "adm_bed": "3",
            "dscg_maindiag_code": "I21.900",
            "dscg_maindiag_name": "急性心肌梗死",
        },
        "diseinfo": [],
    }


def _ipt_settle(p: Any, mdtrt_id: str, total: str, **extra: Any) -> dict[str, Any]:
    data = settle_input(p, mdtrt_id, total, batch=None, acct="0", **extra)["data"]
    data.pop("chrg_bchno")
    data.pop("med_type")
    data["mid_setl_flag"] = "0"
    return {"data": data}


async def _admitted_and_discharged(his: Any, p: Any) -> str:
    mdtrt_id = str((await his.ok("2401", _admission(p)))["result"]["mdtrt_id"])
    await his.ok(
        "2301", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "5000.00", med_type="23")]}
    )
    await his.ok(
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": p.psn_no,
                "insutype": p.insutype,
                "endtime": "2030-05-10 10:00:00",
                "dscg_dept_codg": "A03",
                "dscg_dept_name": "内科",
                "dscg_way": "1",
            },
            "diseinfo": [],
        },
    )
    return mdtrt_id


async def test_transfer_filing_is_what_med_type_23_requires(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    p = world["people"]["emp2"]
    mdtrt_id = await _admitted_and_discharged(his2, p)

    refused = await his2.call("2303", _ipt_settle(p, mdtrt_id, "5000.00"))
    assert refused["infcode"] == -1
    assert "data.med_type" in refused["err_msg"] and "2501" in refused["err_msg"]

    # a filing naming another receiving institution does not entitle this one
    elsewhere = await his.ok("2501", _transfer(p, to="H11010299999"))
    wrong = await his2.call("2303", _ipt_settle(p, mdtrt_id, "5000.00"))
    assert wrong["infcode"] == -1 and "reflin_medins_no" in wrong["err_msg"]
    await his.ok(
        "2502",
        {"data": {"trt_dcla_detl_sn": elsewhere["result"]["trt_dcla_detl_sn"], "psn_no": p.psn_no}},
    )

    # the referring hospital files the transfer to HOSP2 (input as a JSON string)
    filed = await his.ok("2501", json.dumps(_transfer(p)))
    sn = filed["result"]["trt_dcla_detl_sn"]
    pre = await his2.ok("2303", _ipt_settle(p, mdtrt_id, "5000.00"))
    assert pre["setlinfo"]["med_type"] == "23" and pre["setlinfo"]["hifp_pay"] > 0

    # the receiving hospital sees the transfer in 5304, the referring one too
    seen = (await his2.ok("5304", {"data": {"psn_no": p.psn_no}}))["refmedin"]
    assert [r["trt_dcla_detl_sn"] for r in seen] == [sn]
    assert seen[0]["reflin_medins_no"] == HOSP2 and seen[0]["refl_rea"] == "本院无条件"
    assert seen[0]["psn_name"] == "李四" and seen[0]["diag_code"] == "I21.900"
    assert (await his.ok("5304", {"data": {"psn_no": p.psn_no}}))["refmedin"][0][
        "trt_dcla_detl_sn"
    ] == sn

    # 2502 by the filer withdraws it: 2304 is refused again
    await his.ok("2502", {"data": {"trt_dcla_detl_sn": sn, "psn_no": p.psn_no, "memo": "取消"}})
    again = await his2.call("2304", _ipt_settle(p, mdtrt_id, "5000.00", **echo(pre)))
    assert again["infcode"] == -1 and "2501" in again["err_msg"]
    assert (await his2.ok("5304", {"data": {"psn_no": p.psn_no}}))["refmedin"] == []

    # filed again, 2304 settles
    await his.ok("2501", _transfer(p))
    pre = await his2.ok("2303", _ipt_settle(p, mdtrt_id, "5000.00"))
    done = await his2.ok("2304", _ipt_settle(p, mdtrt_id, "5000.00", **echo(pre)))
    assert done["setlinfo"]["setl_id"] and done["setlinfo"]["med_type"] == "23"


async def test_transfer_filing_refusals_name_the_field(world: dict[str, Any]) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    to_self = await his.call("2501", _transfer(p, to=HOSP))
    assert to_self["infcode"] == -1 and "refmedin.reflin_medins_no" in to_self["err_msg"]
    no_name = await his.call("2501", _transfer(p, reflin_medins_name=""))
    assert no_name["infcode"] == -1 and "refmedin.reflin_medins_name" in no_name["err_msg"]
    bad_flag = await his.call("2501", _transfer(p, hosp_agre_refl_flag="Y"))
    assert bad_flag["infcode"] == -1 and "refmedin.hosp_agre_refl_flag" in bad_flag["err_msg"]
    bad_date = await his.call("2501", _transfer(p, begndate="2024/05/01"))
    assert bad_date["infcode"] == -1 and "refmedin.begndate" in bad_date["err_msg"]
    no_node = await his.call("2501", {"data": _transfer(p)["refmedin"]})
    assert no_node["infcode"] == -1 and "refmedin" in no_node["err_msg"]
    unknown = await his.call("2502", {"data": {"trt_dcla_detl_sn": "1", "psn_no": p.psn_no}})
    assert unknown["infcode"] == -1 and "data.trt_dcla_detl_sn" in unknown["err_msg"]
    period = await his.call(
        "5304",
        {
            "data": {
                "psn_no": p.psn_no,
                "begntime": "2024-05-02 00:00:00",
                "endtime": "2024-05-01 00:00:00",
            }
        },
    )
    assert period["infcode"] == -1 and "data.endtime" in period["err_msg"]


async def test_5303_lists_the_open_admissions_of_the_institution(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    p = world["people"]["emp2"]
    assert (await his2.ok("5303", {"data": {"psn_no": p.psn_no}}))["data"] == []
    mdtrt_id = str((await his2.ok("2401", _admission(p, med_type="21")))["result"]["mdtrt_id"])
    rows = (await his2.ok("5303", json.dumps({"data": {"psn_no": p.psn_no}})))["data"]
    assert [r["mdtrt_id"] for r in rows] == [mdtrt_id]
    assert rows[0]["med_type"] == "21" and rows[0]["begndate"] == "2024-05-02"
    assert rows[0]["psn_name"] == "李四" and rows[0]["ipt_otp_no"] == "IPT0023"
    # another institution does not see it
    assert (await his.ok("5303", {"data": {"psn_no": p.psn_no}}))["data"] == []
    window = {"psn_no": p.psn_no, "begntime": "2024-06-01 00:00:00"}
    assert (await his2.ok("5303", {"data": window}))["data"] == []
    await his2.ok("2404", {"data": {"mdtrt_id": mdtrt_id, "psn_no": p.psn_no}})
    assert (await his2.ok("5303", {"data": {"psn_no": p.psn_no}}))["data"] == []


async def test_2699_maternity_filing(world: dict[str, Any]) -> None:
    his = world["his"]
    p = world["people"]["res"]
    data = {
        "psn_no": p.psn_no,
        "insutype": p.insutype,
        "begndate": "2024-03-01",
        "enddate": "2024-12-31",
        "last_mena_date": "2024-02-01",
        "plan_dlv_date": "2024-11-08",
        "geso_val": "12",
        "fetts": 1,
        "tel": "13900000000",
    }
    sn = (await his.ok("2699", json.dumps({"data": data})))["result"]["trt_dcla_detl_sn"]
    fixed = await his.ok("5302", {"data": {"psn_no": p.psn_no, "biz_appy_type": "03"}})
    assert [(r["trt_dcla_detl_sn"], r["fixmedins_code"]) for r in fixed["psnfixmedin"]] == [
        (sn, HOSP)
    ]
    bad = await his.call("2699", {"data": {**data, "geso_val": "forty"}})
    assert bad["infcode"] == -1 and "data.geso_val" in bad["err_msg"]
    wrong_insu = await his.call("2699", {"data": {**data, "insutype": "310"}})
    assert wrong_insu["infcode"] == -1


async def test_pharmacy_chronic_purchase_needs_the_filing_too(world: dict[str, Any]) -> None:
    his, pos = world["his"], world["pos"]
    p = world["people"]["emp"]
    detail = [
        {
            "feedetl_sn": "D1",
            "rx_circ_flag": "0",
            "fee_ocur_time": "2030-01-02 09:00:00",
            "med_list_codg": EXAM_A,
            "medins_list_codg": "LOCAL-1",
            "det_item_fee_sumamt": "45.20",
            "cnt": "1",
            "pric": "45.20",
        }
    ]
    druginfo = {
        "psn_no": p.psn_no,
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": p.certno,
        "begntime": "2030-01-02 09:00:00",
        "medfee_sumamt": "45.20",
        "insutype": "310",
        "acct_used_flag": "1",
        "med_type": "14",
        "dise_codg": "M03900",
        "dise_name": "高血压",
    }
    refused = await pos.call("2101", {"druginfo": druginfo, "drugdetail": detail})
    assert refused["infcode"] == -1
    assert "druginfo.med_type" in refused["err_msg"] and "2503" in refused["err_msg"]
    # the hospital's filing entitles the person at the pharmacy too
    await his.ok("2503", _chronic(p))
    trial = await pos.ok("2101", {"druginfo": druginfo, "drugdetail": detail})
    assert trial["setlinfo"]["med_type"] == "14"


async def test_a_filing_retried_under_its_msgid_is_filed_once(world: dict[str, Any]) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    msgid = his.msgid()
    first = await his.ok("2503", _chronic(p), msgid=msgid)
    again = await his.ok("2503", _chronic(p), msgid=msgid)
    assert again == first
    with world["platform"].db.read() as conn:
        assert len(conn.execute(select(trt_dcla)).all()) == 1
