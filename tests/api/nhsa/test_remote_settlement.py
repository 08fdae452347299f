"""异地就医 through the gateway: a person insured in the neighbouring region (131099) settles at
a demo-city hospital under 131099's benefits; without a registration at its lower 未备案 ratio;
a demo-region person at a hospital of the other region is refused unless registered or in an
emergency; the envelope's insuplc_admdvs must be the person's. Figures by hand from the two
parameter files (src/yibao/policy/params/)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from settle_factories import (
    DRUG_B,
    EXAM_A,
    His,
    Person,
    echo,
    fee_line,
    register_input,
    seed_institution,
    seed_person,
    settle_input,
)

from yibao.enrolment import remote
from yibao.kit.clock import local_naive_now

LF = "131099"
LF_HOSP = "H13100200001"


def _seed(world: dict[str, Any]) -> tuple[Person, His]:
    platform = world["platform"]
    with platform.db.engine.begin() as conn:
        p = seed_person(
            conn,
            Person("P0101", "13100219900307451X", psn_name="赵六", insuplc_admdvs=LF),
        )
        paasid, secret = seed_institution(conn, LF_HOSP, admdvs="131002")
    return p, His(world["client"], LF_HOSP, paasid, secret)


def _register(world: dict[str, Any], psn_no: str, area: str) -> None:
    today = local_naive_now().date()
    with world["platform"].db.engine.begin() as conn:
        remote.register(
            conn,
            ids=world["platform"].ids,
            actor="tester",
            psn_no=psn_no,
            mdtrt_area_admdvs=area,
            reg_type="temporary",
            begndate=today - timedelta(days=1),
            enddate=today + timedelta(days=30),
        )


async def _pre(his: His, p: Person, *, insuplc: str, med_type: str = "11") -> Any:
    out = await his.call("2201", register_input(p), insuplc_admdvs=insuplc)
    assert out["infcode"] == 0, out["err_msg"]
    mdtrt_id = out["output"]["data"]["mdtrt_id"]
    line = fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "3000.00")
    up = await his.call("2204", {"feedetail": [line]}, insuplc_admdvs=insuplc)
    assert up["infcode"] == 0, up["err_msg"]
    return await his.call(
        "2206", settle_input(p, mdtrt_id, "3000.00", med_type=med_type), insuplc_admdvs=insuplc
    )


async def test_person_insured_elsewhere_settles_under_the_insured_region(
    world: dict[str, Any],
) -> None:
    p, _ = _seed(world)
    his = world["his"]  # a 二级 hospital in district 110102 (region 110199)
    info = await his.call(
        "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno}}, insuplc_admdvs=LF
    )
    assert info["infcode"] == 0, info["err_msg"]
    assert info["output"]["insuinfo"][0]["insuplc_admdvs"] == LF

    # no registration: 131099 settles at its 未备案 ratio, 10 points lower:
    # (3000 − deductible 1000) × (60 % − 10 %) = 1000.00
    unregistered = await _pre(his, p, insuplc=LF)
    assert unregistered["infcode"] == 0, unregistered["err_msg"]
    s = unregistered["output"]["setlinfo"]
    assert (s["act_pay_dedc"], s["hifp_pay"], s["pool_prop_selfpay"]) == (
        Decimal("1000.00"),
        Decimal("2000.00") * Decimal("0.50"),
        Decimal("0.5"),
    )

    # registered: 131099's own ratio, (3000 − 1000) × 60 % = 1200.00 — not 110199's
    # (3000 − 1800) × 70 % = 840.00
    _register(world, p.psn_no, "110199")
    registered = await _pre(his, p, insuplc=LF)
    s = registered["output"]["setlinfo"]
    assert s["hifp_pay"] == Decimal("1200.00")
    assert s["psn_part_amt"] == Decimal("1800.00")
    assert s["acct_pay"] == Decimal("500.00")
    assert s["medfee_sumamt"] == s["fund_pay_sumamt"] + s["psn_part_amt"]


async def test_envelope_insuplc_must_be_the_persons(world: dict[str, Any]) -> None:
    p, _ = _seed(world)
    answer = await world["his"].call("2201", register_input(p))  # envelope says 110199
    assert answer["infcode"] == -1
    assert "insuplc_admdvs" in answer["err_msg"]


async def test_demo_person_elsewhere_needs_registration_unless_emergency(
    world: dict[str, Any],
) -> None:
    _, lf_his = _seed(world)
    p = world["people"]["emp"]  # insured in 110199, at a hospital in 131002
    refused = await _pre(lf_his, p, insuplc="110199")
    assert refused["infcode"] == -1
    assert "异地就医未备案" in refused["err_msg"] and "med_type" in refused["err_msg"]

    # emergency (13) needs none: 110199's outpatient terms, (3000 − 1800) × 70 % = 840.00
    emergency = await _pre(lf_his, p, insuplc="110199", med_type="13")
    assert emergency["infcode"] == 0, emergency["err_msg"]
    assert emergency["output"]["setlinfo"]["hifp_pay"] == Decimal("840.00")

    # a registration for the wrong region does not count; the right one does
    _register(world, p.psn_no, "440199")
    assert (await _pre(lf_his, p, insuplc="110199"))["infcode"] == -1
    _register(world, p.psn_no, "131002")
    ok = await _pre(lf_his, p, insuplc="110199")
    assert ok["infcode"] == 0, ok["err_msg"]
    assert ok["output"]["setlinfo"]["hifp_pay"] == Decimal("840.00")


def test_registration_rules(world: dict[str, Any]) -> None:
    platform = world["platform"]
    today = date(2024, 1, 1)
    with platform.db.engine.begin() as conn:
        kw: dict[str, Any] = {"ids": platform.ids, "actor": "tester", "psn_no": "P0001"}
        for bad, field in (
            ({"mdtrt_area_admdvs": "110105", "reg_type": "long_term"}, "mdtrt_area_admdvs"),
            ({"mdtrt_area_admdvs": "131099", "reg_type": "temporary"}, "enddate"),
            ({"mdtrt_area_admdvs": "131099", "reg_type": "forever"}, "reg_type"),
        ):
            try:
                remote.register(conn, begndate=today, **kw, **bad)
            except Exception as exc:
                assert str(exc).startswith(field), exc
            else:
                raise AssertionError(f"{bad} was accepted")
        first = remote.register(
            conn, begndate=today, mdtrt_area_admdvs="131099", reg_type="long_term", **kw
        )
        assert first["valid"] and first["reg_type_name"] == "异地长期居住"
        try:
            remote.register(
                conn,
                begndate=today + timedelta(days=10),
                enddate=today + timedelta(days=20),
                mdtrt_area_admdvs="131002",
                reg_type="temporary",
                **kw,
            )
        except Exception as exc:
            assert "重叠" in str(exc)
        else:
            raise AssertionError("an overlapping registration was accepted")
        gone = remote.revoke(
            conn,
            ids=platform.ids,
            actor="tester",
            remote_reg_id=first["remote_reg_id"],
            reason="返回参保地",
        )
        assert not gone["valid"] and gone["revs_memo"] == "返回参保地"


async def _settle(his: His, p: Person, *, insuplc: str, med_type: str = "11") -> dict[str, Any]:
    pre = await _pre(his, p, insuplc=insuplc, med_type=med_type)
    assert pre["infcode"] == 0, pre["err_msg"]
    mdtrt_id = pre["output"]["setlinfo"]["mdtrt_id"]
    body = settle_input(p, mdtrt_id, "3000.00", med_type=med_type, **echo(pre["output"]))
    done = await his.call("2207", body, insuplc_admdvs=insuplc)
    assert done["infcode"] == 0, done["err_msg"]
    return dict(done["output"]["setlinfo"])


async def test_inter_region_clearing_of_the_month(world: dict[str, Any]) -> None:
    from sqlalchemy import select

    from yibao.settlement import inter_region
    from yibao.storage.tables import setl

    lf_person, lf_his = _seed(world)
    bj_person = world["people"]["emp"]
    _register(world, lf_person.psn_no, "110199")
    first = await _settle(world["his"], lf_person, insuplc=LF)
    second = await _settle(world["his2"], lf_person, insuplc=LF)
    rev = await world["his2"].call(
        "2208",
        {
            "data": {
                "setl_id": second["setl_id"],
                "mdtrt_id": second["mdtrt_id"],
                "psn_no": lf_person.psn_no,
            }
        },
        insuplc_admdvs=LF,
    )
    assert rev["infcode"] == 0, rev["err_msg"]
    emergency = await _settle(lf_his, bj_person, insuplc="110199", med_type="13")
    local = await _settle(world["his"], bj_person, insuplc="110199")  # not 异地: not cleared

    platform = world["platform"]
    month = f"{local_naive_now():%Y-%m}"
    with platform.db.read() as conn:
        report = inter_region.report(conn, platform.book, month=month)
        rows = [dict(r) for r in conn.execute(select(setl)).mappings()]
    assert report["balanced"] is True

    def owed(insured: str, district_prefix: str) -> Decimal:
        # recomputed from the settlement rows: settlements − reversals, fund + account
        return sum(
            (
                r["fund_pay_sumamt"] + r["acct_pay"]
                for r in rows
                if r["insuplc_admdvs"] == insured and r["clr_optins"].startswith(district_prefix)
            ),
            Decimal("0.00"),
        )

    pairs = {(i["treatment_admdvs"], i["insured_admdvs"]): i for i in report["receivables"]}
    assert set(pairs) == {("110199", "131099"), ("131099", "110199")}
    bj_owes_lf = pairs[("131099", "110199")]
    lf_owes_bj = pairs[("110199", "131099")]
    assert lf_owes_bj["owed"] == owed("131099", "1101")
    assert lf_owes_bj["owed"] == first["fund_pay_sumamt"] + first["acct_pay"]
    assert (lf_owes_bj["setl_cnt"], lf_owes_bj["revs_cnt"]) == (2, 1)
    assert bj_owes_lf["owed"] == owed("110199", "1310")
    assert bj_owes_lf["owed"] == emergency["fund_pay_sumamt"] + emergency["acct_pay"]
    assert local["setl_id"] not in {r["setl_id"] for r in rows if r["clr_optins"][:4] == "1310"}
    # by fund: the reversed settlement nets to nothing, the account (310200) is included
    funds = {f["fund_pay_type"]: f for f in lf_owes_bj["funds"]}
    assert funds["310100"]["net"] == first["hifp_pay"]
    assert funds["310200"]["net"] == first["acct_pay"]
    assert funds["310100"]["reversed"] == -second["hifp_pay"]
    # the insured region's books carry the same figures as liabilities
    books = {g["admdvs"]: g for g in report["regions"]}
    assert books["131099"]["liability"] == lf_owes_bj["owed"]
    assert books["110199"]["receivable"] == lf_owes_bj["owed"]
    assert books["110199"]["liability"] == books["131099"]["receivable"] == bj_owes_lf["owed"]
    assert sum(g["receivable"] for g in books.values()) == sum(
        g["liability"] for g in books.values()
    )
    assert report["liabilities"][0]["insured_admdvs"] == "110199"


async def test_5269_5270_remote_statements(world: dict[str, Any]) -> None:
    lf_person, lf_his = _seed(world)
    his = world["his"]
    unregistered = await _settle(his, lf_person, insuplc=LF)
    stmt = await his.call("5269", {"data": {"setl_id": unregistered["setl_id"]}})
    assert stmt["infcode"] == 0, stmt["err_msg"]
    out = stmt["output"]
    assert out["setlinfo"]["hifp_pay"] == unregistered["hifp_pay"]
    info = out["remoteinfo"]
    assert (info["insuplc_admdvs"], info["mdtrtarea_admvs"]) == (LF, "110199")
    assert info["setl_basis"] == "unregistered" and info["remote_reg_id"] is None
    assert sum(r["det_item_fee_sumamt"] for r in out["feeinfo"]) == Decimal("3000.00")

    # the outpatient settlement is not an inpatient one; a local settlement is not 异地
    wrong = await his.call("5270", {"data": {"setl_id": unregistered["setl_id"]}})
    assert wrong["infcode"] == -1 and "5269" in wrong["err_msg"]
    local = await _settle(his, world["people"]["emp"], insuplc="110199")
    not_remote = await his.call("5269", {"data": {"setl_id": local["setl_id"]}})
    assert not_remote["infcode"] == -1 and "data.setl_id" in not_remote["err_msg"]
    # another institution's settlement is answered as missing
    other = await lf_his.call("5269", {"data": {"setl_id": unregistered["setl_id"]}})
    assert other["infcode"] == -1 and "不属于本机构" in other["err_msg"]

    _register(world, lf_person.psn_no, "110199")
    registered = await _settle(his, lf_person, insuplc=LF)
    again = await his.ok("5269", {"data": {"setl_id": registered["setl_id"]}})
    assert again["remoteinfo"]["setl_basis"] == "registered"
    assert again["remoteinfo"]["reg_type"] == "temporary"


def _admission(p: Person, med_type: str) -> dict[str, Any]:
    return {
        "mdtrtinfo": {
            "psn_no": p.psn_no,
            "insutype": p.insutype,
            "begntime": "2024-05-01 08:00:00",
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": p.certno,
            "med_type": med_type,
            "ipt_no": f"IPT{p.psn_no}",
            "atddr_no": "D1",
            "chfpdr_name": "李医生",
            "adm_diag_dscr": "肺炎",
            "adm_dept_codg": "A03",
            "adm_dept_name": "内科",
            "adm_bed": "12",
            "dscg_maindiag_code": "J18.900",
            "dscg_maindiag_name": "肺炎",
        },
        "diseinfo": [],
    }


def _ipt_settle(p: Person, mdtrt_id: str, **extra: Any) -> dict[str, Any]:
    data = settle_input(p, mdtrt_id, "10000.00", batch=None, acct="0", **extra)["data"]
    data.pop("chrg_bchno")
    data.pop("med_type")
    data["mid_setl_flag"] = "0"
    return {"data": data}


async def _inpatient(his: His, p: Person, *, insuplc: str, med_type: str = "21") -> Any:
    """Admit, 甲类 8000.00 + 乙类 2000.00 (10 % 先行自付), discharge, pre-settle (2303)."""
    admitted = await his.call("2401", _admission(p, med_type), insuplc_admdvs=insuplc)
    assert admitted["infcode"] == 0, admitted["err_msg"]
    mdtrt_id = admitted["output"]["result"]["mdtrt_id"]
    lines = [
        fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "8000.00", med_type=med_type),
        fee_line("2", mdtrt_id, p.psn_no, DRUG_B, "2000.00", med_type=med_type),
    ]
    for infno, body in (
        ("2301", {"feedetail": lines}),
        (
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
        ),
    ):
        answer = await his.call(infno, body, insuplc_admdvs=insuplc)
        assert answer["infcode"] == 0, answer["err_msg"]
    pre = await his.call("2303", _ipt_settle(p, mdtrt_id), insuplc_admdvs=insuplc)
    return mdtrt_id, pre


async def test_local_and_remote_inpatient_bill_and_5270(world: dict[str, Any]) -> None:
    """The same bill of two adult residents (1501) at a 三级 hospital of the demo city: one
    insured here (110199), one in the neighbouring region (131099, registered)."""
    his = world["his2"]  # 三级, district 110102
    local_person = world["people"]["res"]
    with world["platform"].db.engine.begin() as conn:
        lf_res = seed_person(
            conn,
            Person(
                "P0102",
                "13100220000101123X",
                psn_name="钱七",
                insutype="390",
                psn_type="1501",
                balc=Decimal("0.00"),
                insuplc_admdvs=LF,
            ),
        )
    # local: 110199 res-ipt, deductible 1300, (9800 − 1300) × 75 % = 6375.00
    _, local = await _inpatient(his, local_person, insuplc="110199")
    s = local["output"]["setlinfo"]
    assert (s["act_pay_dedc"], s["hifp_pay"], s["psn_cash_pay"]) == (
        Decimal("1300.00"),
        Decimal("6375.00"),
        Decimal("3625.00"),
    )
    # 异地 without a registration: 131099 cuts its ratio by 10 points, 60 % → 50 %
    mdtrt_id, unreg = await _inpatient(his, lf_res, insuplc=LF)
    assert unreg["output"]["setlinfo"]["hifp_pay"] == Decimal("4400.00")  # 8800 × 50 %
    _register(world, lf_res.psn_no, "110199")
    # registered: 131099 res-ipt, deductible 1000 (三级), (9800 − 1000) × 60 % = 5280.00
    pre = await his.call("2303", _ipt_settle(lf_res, mdtrt_id), insuplc_admdvs=LF)
    s = pre["output"]["setlinfo"]
    assert (s["act_pay_dedc"], s["hifp_pay"], s["psn_cash_pay"], s["pool_prop_selfpay"]) == (
        Decimal("1000.00"),
        Decimal("5280.00"),
        Decimal("4720.00"),
        Decimal("0.6"),
    )
    done = await his.call(
        "2304", _ipt_settle(lf_res, mdtrt_id, **echo(pre["output"])), insuplc_admdvs=LF
    )
    assert done["infcode"] == 0, done["err_msg"]
    setl_id = done["output"]["setlinfo"]["setl_id"]
    stmt = await his.ok("5270", {"data": {"setl_id": setl_id, "psn_no": lf_res.psn_no}})
    assert stmt["setlinfo"]["hifp_pay"] == Decimal("5280.00")
    assert stmt["remoteinfo"]["setl_basis"] == "registered"
    assert stmt["remoteinfo"]["insuplc_name"].startswith("廊坊")
    wrong = await his.call("5269", {"data": {"setl_id": setl_id}})
    assert wrong["infcode"] == -1 and "5270" in wrong["err_msg"]


async def test_emergency_admission_needs_no_registration(world: dict[str, Any]) -> None:
    _, lf_his = _seed(world)
    p = world["people"]["emp"]  # 110199 employee at a 131002 二级 hospital, 急诊转住院
    _, pre = await _inpatient(lf_his, p, insuplc="110199", med_type="24")
    assert pre["infcode"] == 0, pre["err_msg"]
    # 110199 emp-in-service-ipt: deductible 1300, (9800 − 1300) × 87 % (二级) = 7395.00
    assert pre["output"]["setlinfo"]["hifp_pay"] == Decimal("7395.00")
    _, refused = await _inpatient(lf_his, world["people"]["emp2"], insuplc="110199")
    assert refused["infcode"] == -1 and "异地就医未备案" in refused["err_msg"]
