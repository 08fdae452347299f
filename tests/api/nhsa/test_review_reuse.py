"""2207 applies the same review as its 2206: on SQLite (one process writes) it takes the
2206's hits over without reading the person's history again — unless something was written
for the person in between, when it reviews again and sees it."""

from __future__ import annotations

from typing import Any

import pytest
from settle_factories import EXAM_A, fee_line, register_input, settle_input

from yibao.review import repo as review_repo


def _echo(setlinfo_output: dict[str, Any]) -> dict[str, Any]:
    info = setlinfo_output["setlinfo"]
    return {
        k: info[k]
        for k in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
    }


async def _billed(his: Any, p: Any, otp: str) -> str:
    out = await his.ok("2201", register_input(p, ipt_otp_no=otp))
    mdtrt_id = str(out["data"]["mdtrt_id"])
    await his.ok("2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "20.00")]})
    return mdtrt_id


@pytest.fixture
def history_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = review_repo.visits_since

    def counting(conn: Any, psn_no: str, **kw: Any) -> Any:
        seen.append(psn_no)
        return real(conn, psn_no, **kw)

    monkeypatch.setattr(review_repo, "visits_since", counting)
    return seen


async def test_a_2207_takes_its_2206_review_over(
    world: dict[str, Any], history_reads: list[str]
) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    mdtrt_id = await _billed(his, p, "OTP0101")
    pre = await his.call("2206", settle_input(p, mdtrt_id, "20.00"))
    assert pre["infcode"] == 0 and not pre.get("warn_msg")
    reads = len(history_reads)
    done = await his.call("2207", settle_input(p, mdtrt_id, "20.00", **_echo(pre["output"])))
    assert done["infcode"] == 0 and not done.get("warn_msg")
    assert len(history_reads) == reads  # the history was not read again


async def test_a_visit_elsewhere_between_2206_and_2207_is_seen(
    world: dict[str, Any], history_reads: list[str]
) -> None:
    his, his2 = world["his"], world["his2"]
    p = world["people"]["emp"]
    mdtrt_id = await _billed(his, p, "OTP0201")
    pre = await his.call("2206", settle_input(p, mdtrt_id, "20.00"))
    assert pre["infcode"] == 0 and not pre.get("warn_msg")  # one institution so far today
    await his2.ok("2201", register_input(p, ipt_otp_no="OTP0202"))  # the card, elsewhere
    reads = len(history_reads)
    done = await his.call("2207", settle_input(p, mdtrt_id, "20.00", **_echo(pre["output"])))
    assert done["infcode"] == 0
    assert len(history_reads) == reads + 1  # reviewed again
    assert "SDMV-01 同日多家机构就诊" in done["warn_msg"]


async def test_a_changed_bill_is_reviewed_again(
    world: dict[str, Any], history_reads: list[str]
) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    mdtrt_id = await _billed(his, p, "OTP0301")
    pre = await his.call("2206", settle_input(p, mdtrt_id, "20.00"))
    assert pre["infcode"] == 0
    # another line uploaded after the 2206: a write for the person, and another bill
    await his.ok("2204", {"feedetail": [fee_line("2", mdtrt_id, p.psn_no, EXAM_A, "20.00")]})
    reads = len(history_reads)
    pre2 = await his.call("2206", settle_input(p, mdtrt_id, "40.00"))
    done = await his.call("2207", settle_input(p, mdtrt_id, "40.00", **_echo(pre2["output"])))
    assert done["infcode"] == 0
    assert len(history_reads) == reads + 1  # the second 2206 read it; its 2207 took it over


def _sale(p: Any, sn: str) -> dict[str, Any]:
    detail = [
        {
            "feedetl_sn": sn,
            "fee_ocur_time": "2030-01-02 09:00:00",
            "med_list_codg": EXAM_A,  # not a drug: the pharmacy rule moves it to self-pay
            "medins_list_codg": "LOCAL-2",
            "det_item_fee_sumamt": "10.00",
            "cnt": "1",
            "pric": "10.00",
        }
    ]
    info = {
        "psn_no": p.psn_no,
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": p.certno,
        "begntime": "2030-01-02 09:00:00",
        "medfee_sumamt": "10.00",
        "insutype": "310",
        "acct_used_flag": "0",
        "med_type": "41",
    }
    return {"druginfo": info, "drugdetail": detail}


async def test_a_2102_takes_its_2101_review_over(
    world: dict[str, Any], history_reads: list[str]
) -> None:
    pos = world["pos"]
    p = world["people"]["emp"]
    pre = await pos.call("2101", _sale(p, "S1"))
    assert pre["infcode"] == 0
    reads = len(history_reads)
    done = await pos.call("2102", _sale(p, "S1"))
    assert done["infcode"] == 0
    assert len(history_reads) == reads  # the 2101's review, taken over
    memo = done["output"]["detlcutinfo"][0]["memo"]
    assert memo.startswith("PHND-01 药店刷卡购非药品: ")  # with the same hits
    # the next sale of the person is reviewed afresh (the 2102 was a write for them)
    await pos.call("2101", _sale(p, "S2"))
    assert len(history_reads) == reads + 1


async def test_a_store_that_declares_its_stock_is_reviewed_at_2102_again(
    world: dict[str, Any], history_reads: list[str]
) -> None:
    from test_inventory import stocktake  # the 3501 shape those tests use

    pos = world["pos"]
    p = world["people"]["emp"]
    await pos.ok("3501", {"invinfo": [stocktake("S1", "10")]})
    assert (await pos.call("2101", _sale(p, "S1")))["infcode"] == 0
    reads = len(history_reads)
    assert (await pos.call("2102", _sale(p, "S1")))["infcode"] == 0
    assert len(history_reads) == reads + 1  # a declared stock moves with others' sales
