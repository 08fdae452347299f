"""Inpatient (2401 → 2301 → 2402 → 2303 → 2304 → 2305), pharmacy (2101 → 2102 → 2103) and
2601 reversal by msgid, through the gateway."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from settle_factories import CONSULT_A, DRUG_B, EXAM_A, echo, fee_line, register_input, settle_input
from sqlalchemy import select

from yibao.storage.tables import mdtrt, psn_accum, psn_insu, setl


def _admission(p: Any, *, ipt_no: str = "IPT0001") -> dict[str, Any]:
    return {
        "mdtrtinfo": {
            "psn_no": p.psn_no,
            "insutype": p.insutype,
            "begntime": "2024-05-01 08:00:00",
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": p.certno,
            "med_type": "21",
            "ipt_no": ipt_no,
            "atddr_no": "D1",
            "chfpdr_name": "李医生",
            "adm_diag_dscr": "肺炎",
            "adm_dept_codg": "A03",
            "adm_dept_name": "内科",
            "adm_bed": "12",
            "dscg_maindiag_code": "J18.900",
            "dscg_maindiag_name": "肺炎",
            "agnterinfo": {"agnter_name": "unknown fields are ignored"},
        },
        "diseinfo": [
            {
                "psn_no": p.psn_no,
                "diag_type": "1",
                "maindiag_flag": "1",
                "diag_srt_no": 1,
                "diag_code": "J18.900",
                "diag_name": "肺炎",
                "diag_dept": "内科",
                "dise_dor_no": "D1",
                "dise_dor_name": "李医生",
                "diag_time": "2024-05-01 08:00:00",
            }
        ],
    }


def _discharge(p: Any, mdtrt_id: str) -> dict[str, Any]:
    return {
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
    }


def _ipt_settle(p: Any, mdtrt_id: str, total: str, **extra: Any) -> dict[str, Any]:
    data = settle_input(p, mdtrt_id, total, batch=None, acct="0", **extra)["data"]
    data.pop("chrg_bchno")
    data["mid_setl_flag"] = "0"
    data.pop("med_type")
    return {"data": data}


async def test_resident_inpatient_golden_b_and_reversal(world: dict[str, Any]) -> None:
    """domain.md §1.6 B at a 三级 hospital: 8000 甲类 + 2000 乙类 (10 %)."""
    his = world["his2"]
    p = world["people"]["res"]
    admitted = await his.ok("2401", _admission(p))
    mdtrt_id = admitted["result"]["mdtrt_id"]
    assert admitted["data"]["mdtrt_id"] == mdtrt_id
    again = await his.call("2401", _admission(p, ipt_no="IPT0002"))
    assert again["infcode"] == -1 and "住院" in again["err_msg"]
    lines = [
        fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "8000.00", med_type="21"),
        fee_line("2", mdtrt_id, p.psn_no, DRUG_B, "2000.00", med_type="21"),
        fee_line("3", mdtrt_id, p.psn_no, DRUG_B, "100.00", med_type="21"),
    ]
    await his.ok("2301", {"feedetail": lines})
    refund = fee_line(
        "4", mdtrt_id, p.psn_no, DRUG_B, "-100.00", cnt="-1", pric="100.00", init_feedetl_sn="3"
    )
    result = (await his.ok("2301", {"feedetail": [refund]}))["result"]
    assert result[0]["det_item_fee_sumamt"] == Decimal("-100.00")
    not_yet = await his.call("2304", _ipt_settle(p, mdtrt_id, "10000.00"))
    assert not_yet["infcode"] == -1 and "出院" in not_yet["err_msg"]
    await his.ok("2402", _discharge(p, mdtrt_id))
    pre = await his.ok("2303", _ipt_settle(p, mdtrt_id, "10000.00"))
    info = pre["setlinfo"]
    assert info["preselfpay_amt"] == Decimal("200.00")
    assert info["inscp_scp_amt"] == Decimal("9800.00")
    assert info["act_pay_dedc"] == Decimal("1300.00")
    assert info["hifp_pay"] == Decimal("6375.00")
    assert info["psn_part_amt"] == Decimal("3625.00") == info["psn_cash_pay"]
    done = await his.ok("2304", _ipt_settle(p, mdtrt_id, "10000.00", **echo(pre)))
    setl_id = done["setlinfo"]["setl_id"]
    assert done["setlinfo"]["clr_type"] == "21"
    undo = await his.call("2405", {"data": {"mdtrt_id": mdtrt_id, "psn_no": p.psn_no}})
    assert undo["infcode"] == -1 and "结算" in undo["err_msg"]
    cancel = await his.call("2404", {"data": {"mdtrt_id": mdtrt_id, "psn_no": p.psn_no}})
    assert cancel["infcode"] == -1
    rev = await his.ok(
        "2305", {"data": {"mdtrt_id": mdtrt_id, "setl_id": setl_id, "psn_no": p.psn_no}}
    )
    assert rev["setlinfo"]["hifp_pay"] == Decimal("-6375.00")
    await his.ok("2405", {"data": {"mdtrt_id": mdtrt_id, "psn_no": p.psn_no}})
    await his.ok(
        "2302", {"data": [{"feedetl_sn": "0000", "mdtrt_id": mdtrt_id, "psn_no": p.psn_no}]}
    )
    await his.ok("2404", {"data": {"mdtrt_id": mdtrt_id, "psn_no": p.psn_no}})
    with world["platform"].db.read() as conn:
        visit = conn.execute(select(mdtrt).where(mdtrt.c.mdtrt_id == mdtrt_id)).mappings().one()
        accum = [r.amount for r in conn.execute(select(psn_accum))]
    assert visit["mdtrt_stas"] == "cancelled"
    assert all(a == 0 for a in accum)


async def test_pharmacy_settle_and_cancel(world: dict[str, Any]) -> None:
    pos, platform = world["pos"], world["platform"]
    p = world["people"]["emp"]
    detail = [
        {
            "feedetl_sn": "D1",
            "rxno": "",
            "rx_circ_flag": "0",
            "fee_ocur_time": "2030-01-02 09:00:00",
            "med_list_codg": DRUG_B,
            "medins_list_codg": "LOCAL-1",
            "det_item_fee_sumamt": "45.20",
            "cnt": "10",
            "pric": "4.52",
            "bilg_dr_codg": "",
            "bilg_dr_name": "",
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
        "med_type": "41",
    }
    trial = await pos.ok("2101", {"druginfo": druginfo, "drugdetail": detail})
    assert trial["setlinfo"]["setl_id"] is None and trial["setlinfo"]["mdtrt_id"] is None
    assert trial["detlcutinfo"][0]["preselfpay_amt"] == Decimal("4.52")
    done = await pos.ok("2102", {"druginfo": druginfo, "drugdetail": detail})
    info = done["setlinfo"]
    assert info["mdtrt_id"] and info["setl_id"]
    assert info["clr_type"] == "41"
    assert info["acct_pay"] == Decimal("45.20") and info["balc"] == Decimal("454.80")
    assert done["detlcutinfo"][0]["feedetl_sn"] == "D1"
    ids = {"setl_id": info["setl_id"], "mdtrt_id": info["mdtrt_id"], "psn_no": p.psn_no}
    cancelled = await pos.ok("2103", {"data": ids})
    assert cancelled["setlinfo"]["psn_pay"] == Decimal("-45.20")
    assert cancelled["setlinfo"]["cash_payamt"] == Decimal("0.00")
    assert cancelled["setlinfo"]["balc"] == Decimal("500.00")
    wrong_total = await pos.call(
        "2102", {"druginfo": {**druginfo, "medfee_sumamt": "45.00"}, "drugdetail": detail}
    )
    assert wrong_total["infcode"] == -1 and "druginfo.medfee_sumamt" in wrong_total["err_msg"]
    with platform.db.read() as conn:
        assert conn.execute(
            select(psn_insu.c.balc).where(psn_insu.c.psn_no == p.psn_no)
        ).scalar_one() == Decimal("500.00")


async def _settled_visit(
    his: Any, p: Any, amount: str = "100.00"
) -> tuple[str, dict[str, Any], str]:
    mdtrt_id = (await his.ok("2201", register_input(p)))["data"]["mdtrt_id"]
    await his.ok("2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, CONSULT_A, amount)]})
    pre = await his.ok("2206", settle_input(p, mdtrt_id, amount))
    msgid = his.msgid()
    done = await his.ok("2207", settle_input(p, mdtrt_id, amount, **echo(pre)), msgid=msgid)
    return mdtrt_id, done, msgid


async def test_2601_after_a_timeout_reverses_the_settlement(world: dict[str, Any]) -> None:
    his, platform = world["his"], world["platform"]
    p = world["people"]["emp"]
    mdtrt_id, _done, msgid = await _settled_visit(his, p)
    revoke = {"data": {"psn_no": p.psn_no, "omsgid": msgid, "oinfno": "2207"}}
    assert (await his.call("2601", revoke))["infcode"] == 0
    # idempotent: a second 2601 (new msgid) changes nothing
    assert (await his.call("2601", revoke))["infcode"] == 0
    with platform.db.read() as conn:
        rows = list(conn.execute(select(setl).where(setl.c.mdtrt_id == mdtrt_id)).mappings())
        balc = conn.execute(
            select(psn_insu.c.balc).where(psn_insu.c.psn_no == p.psn_no)
        ).scalar_one()
    assert len(rows) == 2
    assert {r["revs_infno"] for r in rows} == {None, "2601"}
    assert balc == Decimal("500.00")
    # the settled lines are free again: the visit can be settled anew
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "100.00"))
    assert pre["setlinfo"]["medfee_sumamt"] == Decimal("100.00")
    missing = await his.call(
        "2601",
        {
            "data": {
                "psn_no": p.psn_no,
                "omsgid": "H11010200001209901010000000001",
                "oinfno": "2207",
            }
        },
    )
    assert missing["infcode"] == -1 and "原交易不存在" in missing["err_msg"]
    wrong = await his.call(
        "2601", {"data": {"psn_no": p.psn_no, "omsgid": msgid, "oinfno": "2304"}}
    )
    assert wrong["infcode"] == -1 and "data.oinfno" in wrong["err_msg"]


async def test_2601_of_a_2208_restores_the_original(world: dict[str, Any]) -> None:
    his, platform = world["his"], world["platform"]
    p = world["people"]["emp"]
    mdtrt_id, done, _ = await _settled_visit(his, p, "120.00")
    setl_id = done["setlinfo"]["setl_id"]
    rev_msgid = his.msgid()
    await his.ok(
        "2208",
        {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": p.psn_no}},
        msgid=rev_msgid,
    )
    revoke = {"data": {"psn_no": p.psn_no, "omsgid": rev_msgid, "oinfno": "2208"}}
    assert (await his.call("2601", revoke))["infcode"] == 0
    assert (await his.call("2601", revoke))["infcode"] == 0
    with platform.db.read() as conn:
        original = conn.execute(select(setl).where(setl.c.setl_id == setl_id)).mappings().one()
        balc = conn.execute(
            select(psn_insu.c.balc).where(psn_insu.c.psn_no == p.psn_no)
        ).scalar_one()
        total = sum(r.medfee_sumamt for r in conn.execute(select(setl)))
    assert original["vali_flag"] == "1"
    assert balc == Decimal("380.00")
    assert total == Decimal("120.00")  # +120 −120 +120
    # the restored settlement can be reversed again
    await his.ok("2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": p.psn_no}})
