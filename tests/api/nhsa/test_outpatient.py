"""Outpatient lifecycle through the gateway: 1101 → 2201 → 2203 → 2204 → 2206 → 2207 → 2208,
with the golden example A of reference/domain.md §1.6."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from settle_factories import (
    CONSULT_A,
    DRUG_B,
    EXAM_A,
    OWN_C,
    echo,
    fee_line,
    register_input,
    settle_input,
)
from sqlalchemy import func, select

from yibao.storage.tables import change_log, fee_detail, msg_log, psn_accum, psn_insu, setl


def _balc(app: Any, psn_no: str) -> Decimal:
    with app.state.platform.db.read() as conn:
        return conn.execute(
            select(psn_insu.c.balc).where(psn_insu.c.psn_no == psn_no, psn_insu.c.insutype == "310")
        ).scalar_one()


def _count(app: Any, table: Any) -> int:
    with app.state.platform.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


async def test_sign_in_and_person_info(world: dict[str, Any]) -> None:
    his = world["his"]
    out = await his.ok("9001", {"signIn": {"opter_no": "0001", "mac": "", "ip": "10.0.0.1"}})
    assert out["signinoutb"]["sign_no"]
    info = await his.ok(
        "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110101199003074514"}}
    )
    assert info["baseinfo"]["psn_no"] == "P0001"
    assert info["insuinfo"][0]["balc"] == Decimal("500.00")
    assert info["insuinfo"][0]["insuplc_admdvs"] == "110199"
    assert info["idetinfo"] == []
    out = await his.ok(
        "9002", {"signOut": {"sign_no": out["signinoutb"]["sign_no"], "opter_no": "0001"}}
    )
    assert out["signoutoutb"]["sign_time"]


async def register(his: Any, person: Any) -> str:
    out = await his.ok("2201", register_input(person))
    return str(out["data"]["mdtrt_id"])


async def test_golden_outpatient_flow_and_reversal(world: dict[str, Any]) -> None:
    his, app = world["his"], world["app"]
    p = world["people"]["emp"]
    mdtrt_id = await register(his, p)
    await his.ok(
        "2203",
        {
            "mdtrtinfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": p.psn_no,
                "med_type": "11",
                "begntime": "2024-05-20 10:00:00",
                "main_cond_dscr": "头痛",
            },
            "diseinfo": [
                {
                    "diag_type": "1",
                    "diag_srt_no": 1,
                    "diag_code": "R51.x00",
                    "diag_name": "头痛",
                    "diag_dept": "内科",
                    "dise_dor_no": "D1",
                    "dise_dor_name": "李医生",
                    "diag_time": "2024-05-20 10:00:00",
                    "vali_flag": "1",
                }
            ],
        },
    )
    lines = [
        fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "2000.00"),
        fee_line("2", mdtrt_id, p.psn_no, CONSULT_A, "1000.00"),
    ]
    result = (await his.ok("2204", {"feedetail": lines}))["result"]
    assert [r["feedetl_sn"] for r in result] == ["1", "2"]
    assert result[0]["inscp_scp_amt"] == Decimal("2000.00")
    assert result[0]["chrgitm_lv"] == "01"
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "3000.00"))
    info = pre["setlinfo"]
    assert info["setl_id"] is None and info["setl_time"] is None
    assert info["act_pay_dedc"] == Decimal("1800.00")
    assert info["hifp_pay"] == Decimal("840.00")
    assert info["psn_part_amt"] == Decimal("2160.00")
    assert info["acct_pay"] == Decimal("500.00")
    assert info["psn_cash_pay"] == Decimal("1660.00")
    assert _count(app, setl) == 0  # 2206 writes nothing
    msgid = his.msgid()
    done = await his.ok("2207", settle_input(p, mdtrt_id, "3000.00", **echo(pre)), msgid=msgid)
    info = done["setlinfo"]
    assert info["setl_id"] and info["setl_time"]
    assert info["medins_setl_id"] == msgid
    assert info["balc"] == Decimal("0.00")
    assert info["hifp_pay"] == Decimal("840.00")
    assert info["medfee_sumamt"] == info["fund_pay_sumamt"] + info["psn_part_amt"]
    assert {d["fund_pay_type"] for d in done["setldetail"]} == {"310100", "310200"}
    assert _balc(app, p.psn_no) == Decimal("0.00")
    setl_id = info["setl_id"]

    # visit 2: deductible already met → 70 % of 1000
    second = await register(his, p)
    await his.ok("2204", {"feedetail": [fee_line("1", second, p.psn_no, EXAM_A, "1000.00")]})
    pre2 = await his.ok("2206", settle_input(p, second, "1000.00"))
    assert pre2["setlinfo"]["act_pay_dedc"] == Decimal("0.00")
    assert pre2["setlinfo"]["hifp_pay"] == Decimal("700.00")

    # 2208 restores the balance and the deductible; 2206 of visit 2 now consumes it.
    rev = await his.ok(
        "2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": p.psn_no}}
    )
    info = rev["setlinfo"]
    assert info["setl_id"] != setl_id
    assert info["medfee_sumamt"] == Decimal("-3000.00")
    assert info["acct_pay"] == Decimal("-500.00")
    assert info["pdn_cash_pay"] == info["psn_cash_pay"] == Decimal("-1660.00")
    assert info["balc"] == Decimal("500.00")
    assert _balc(app, p.psn_no) == Decimal("500.00")
    pre2 = await his.ok("2206", settle_input(p, second, "1000.00"))
    assert pre2["setlinfo"]["act_pay_dedc"] == Decimal("1000.00")
    assert pre2["setlinfo"]["hifp_pay"] == Decimal("0.00")
    with app.state.platform.db.read() as conn:
        rows = {r.setl_id: r for r in conn.execute(select(setl))}
        accum = {r.acc_key: r.amount for r in conn.execute(select(psn_accum))}
        lines_back = conn.execute(
            select(func.count())
            .select_from(fee_detail)
            .where(fee_detail.c.mdtrt_id == mdtrt_id, fee_detail.c.setl_id.is_(None))
        ).scalar_one()
        kinds = [r.entity for r in conn.execute(select(change_log).order_by(change_log.c.seq))]
    assert rows[setl_id].vali_flag == "0"
    reversal = rows[info["setl_id"]]
    assert reversal.refd_setl_flag == "1" and reversal.init_setl_id == setl_id
    assert all(v == 0 for v in accum.values())
    assert lines_back == 2
    assert kinds.count("setl") == 3  # settlement, reversal, original again (vali_flag 0)
    assert kinds.count("mdtrt") >= 3

    # a second reversal of the same settlement is refused
    again = await his.call(
        "2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": p.psn_no}}
    )
    assert again["infcode"] == -1 and "已撤销" in again["err_msg"]


async def test_self_pay_and_class_b_lines(world: dict[str, Any]) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    mdtrt_id = await register(his, p)
    result = (
        await his.ok(
            "2204",
            {
                "feedetail": [
                    fee_line("1", mdtrt_id, p.psn_no, DRUG_B, "4.52"),
                    fee_line("2", mdtrt_id, p.psn_no, OWN_C, "20.00"),
                    fee_line("3", mdtrt_id, p.psn_no, "XZZZZZZZZZZZZZZZZZZZZZZ", "5.00"),
                ]
            },
        )
    )["result"]
    assert result[0]["preselfpay_amt"] == Decimal("0.45")
    assert result[0]["inscp_scp_amt"] == Decimal("4.07")
    assert result[1]["fulamt_ownpay_amt"] == Decimal("20.00")
    # demo region: a code unknown to the catalog is fully self-paid, never reimbursed
    assert result[2]["fulamt_ownpay_amt"] == Decimal("5.00")
    assert result[2]["chrgitm_lv"] == "03" and "目录外" in result[2]["memo"]
    for r in result:
        assert r["det_item_fee_sumamt"] == (
            r["fulamt_ownpay_amt"] + r["overlmt_amt"] + r["preselfpay_amt"] + r["inscp_scp_amt"]
        )
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "29.52"))
    assert pre["setlinfo"]["fulamt_ownpay_amt"] == Decimal("25.00")
    done = await his.ok("2207", settle_input(p, mdtrt_id, "29.52", **echo(pre)))
    assert done["setlinfo"]["hifp_pay"] == Decimal("0.00")  # under the deductible
    assert done["setlinfo"]["acct_pay"] == Decimal("29.52")


async def test_idempotent_retry_and_duplicate_msgid(world: dict[str, Any]) -> None:
    his, app = world["his"], world["app"]
    p = world["people"]["emp"]
    mdtrt_id = await register(his, p)
    await his.ok("2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "100.00")]})
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "100.00"))
    envelope = his.envelope("2207", settle_input(p, mdtrt_id, "100.00", **echo(pre)))
    first = await his.send(envelope)
    assert first["infcode"] == 0
    before = (
        _count(app, setl),
        _count(app, change_log),
        _count(app, msg_log),
        _balc(app, p.psn_no),
    )
    again = await his.send({**envelope, "inf_time": "2099-01-01 00:00:00"})
    assert again == first  # the stored answer, byte for byte
    assert (
        _count(app, setl),
        _count(app, change_log),
        _count(app, msg_log),
        _balc(app, p.psn_no),
    ) == before
    other = await his.send({**envelope, "input": settle_input(p, mdtrt_id, "99.00", **echo(pre))})
    assert other["infcode"] == -1 and "报文ID重复" in other["err_msg"]
    other = await his.send({**envelope, "infno": "2204"})
    assert other["infcode"] == -1 and "报文ID重复" in other["err_msg"]


async def test_refused_message_writes_nothing_and_is_reevaluated(world: dict[str, Any]) -> None:
    his, app = world["his"], world["app"]
    p = world["people"]["emp"]
    mdtrt_id = await register(his, p)
    envelope = his.envelope(
        "2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "-1.00", pric="1.00")]}
    )
    counts = (_count(app, msg_log), _count(app, fee_detail))
    bad = await his.send(envelope)
    assert bad["infcode"] == -1 and "feedetail[0].det_item_fee_sumamt" in bad["err_msg"]
    assert (_count(app, msg_log), _count(app, fee_detail)) == counts
    fixed = {
        **envelope,
        "input": {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "1.00")]},
    }
    assert (await his.send(fixed))["infcode"] == 0


async def test_lifecycle_guards(world: dict[str, Any]) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    mdtrt_id = await register(his, p)
    await his.ok(
        "2204",
        {
            "feedetail": [
                fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "50.00", batch="B1"),
                fee_line("2", mdtrt_id, p.psn_no, EXAM_A, "20.00", batch="B2"),
            ]
        },
    )
    dup = await his.call(
        "2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "50.00", batch="B1")]}
    )
    assert dup["infcode"] == -1 and "feedetail[0].feedetl_sn" in dup["err_msg"]
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "50.00", batch="B1"))
    bad_total = await his.call("2207", settle_input(p, mdtrt_id, "70.00", batch="B1", **echo(pre)))
    assert bad_total["infcode"] == -1 and "data.medfee_sumamt" in bad_total["err_msg"]
    wrong_echo = {**echo(pre), "inscp_scp_amt": Decimal("1.00")}
    bad_echo = await his.call("2207", settle_input(p, mdtrt_id, "50.00", batch="B1", **wrong_echo))
    assert bad_echo["infcode"] == -1 and "data.inscp_scp_amt" in bad_echo["err_msg"]
    done = await his.ok("2207", settle_input(p, mdtrt_id, "50.00", batch="B1", **echo(pre)))
    # no fee cancellation nor visit cancellation under a valid settlement
    r = await his.call(
        "2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "B1", "psn_no": p.psn_no}}
    )
    assert r["infcode"] == -1 and "已结算" in r["err_msg"]
    r = await his.call(
        "2202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": p.psn_no, "ipt_otp_no": "OTP0001"}}
    )
    assert r["infcode"] == -1 and "有效结算" in r["err_msg"]
    # the other batch can be cancelled; after 2208 the registration can be cancelled
    await his.ok("2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "B2", "psn_no": p.psn_no}})
    setl_id = done["setlinfo"]["setl_id"]
    wrong = await his.call(
        "2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": "P0002"}}
    )
    assert wrong["infcode"] == -1 and "data.psn_no" in wrong["err_msg"]
    await his.ok("2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": p.psn_no}})
    await his.ok(
        "2202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": p.psn_no, "ipt_otp_no": "OTP0001"}}
    )
    gone = await his.call(
        "2204", {"feedetail": [fee_line("9", mdtrt_id, p.psn_no, EXAM_A, "1.00")]}
    )
    assert gone["infcode"] == -1 and "撤销" in gone["err_msg"]


async def test_msg_log_keeps_the_answer_of_each_written_message(world: dict[str, Any]) -> None:
    """msg_log holds, per written message, its institution, code, input digest and the exact
    answer, with the visit / settlement and person it produced (2601 looks them up)."""
    his, app = world["his"], world["app"]
    p = world["people"]["emp"]
    envelope = his.envelope("2201", register_input(p, ipt_otp_no="OTP-LOG"))
    answer = await his.send(envelope)
    assert answer["infcode"] == 0
    with app.state.platform.db.read() as conn:
        row = (
            conn.execute(select(msg_log).where(msg_log.c.msgid == envelope["msgid"]))
            .mappings()
            .one()
        )
    assert row["infno"] == "2201" and row["infcode"] == 0
    assert row["fixmedins_code"] == envelope["fixmedins_code"]
    assert len(row["input_sha256"]) == 64
    assert json.loads(row["response"]) == answer
    assert row["ref_id"] == answer["output"]["data"]["mdtrt_id"]
    assert row["psn_no"] == p.psn_no
