"""Short reads (1101, 2206 …) on SQLite while serving: run by the writer's thread at the start
of its next transaction, each seeing the latest commit; and a flow's person, insurance and
identity rows read from the store once (`storage.row_cache`), its answers the same as without."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest
from settle_factories import (
    CONSULT_A,
    EXAM_A,
    CountedStatement,
    echo,
    fee_line,
    register_input,
    settle_input,
)

from yibao.interface import registry
from yibao.interface.pipeline import CallPipeline
from yibao.interface.registry import lookup
from yibao.settlement.repo import persons as persons_repo
from yibao.storage import row_cache

FOUND = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110101199003074514"}}
MISSING = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110101190001010006"}}
PERSON_READS = ("_P_PERSON", "_P_INSU", "_P_INSURANCES", "_P_IDENTITIES", "_P_BY_CERTNO")


@pytest.fixture
def person_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    for name in PERSON_READS:
        monkeypatch.setattr(
            persons_repo, name, CountedStatement(name, getattr(persons_repo, name), seen)
        )
    return seen


async def _flow(his: Any, p: Any, ipt_otp_no: str) -> list[Any]:
    """1101 → 2201 → 2204 → 2206 → 2207 → 1101: the answers' amounts and balances."""
    found = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno}}
    info = await his.ok("1101", found)
    mdtrt_id = (await his.ok("2201", register_input(p, ipt_otp_no=ipt_otp_no)))["data"]["mdtrt_id"]
    lines = [
        fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "200.00"),
        fee_line("2", mdtrt_id, p.psn_no, CONSULT_A, "100.00"),
    ]
    await his.ok("2204", {"feedetail": lines})
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "300.00"))
    done = await his.ok("2207", settle_input(p, mdtrt_id, "300.00", **echo(pre)))
    after = await his.ok("1101", found)
    keep = ("psn_part_amt", "acct_pay", "psn_cash_pay", "hifp_pay", "fund_pay_sumamt")
    return [
        info["insuinfo"],
        {k: pre["setlinfo"][k] for k in keep},
        {k: done["setlinfo"][k] for k in (*keep, "balc")},
        after["insuinfo"],
    ]


async def test_short_reads_run_on_the_writer_and_see_the_latest_commit(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    his = world["his"]
    pipeline: CallPipeline = world["app"].state.nhsa_gateway.pipeline
    txn = lookup("1101")
    assert txn is not None and txn.short_read
    threads: list[str] = []

    def noted(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return txn.handler(*args)

    monkeypatch.setitem(registry._REGISTRY, "1101", dataclasses.replace(txn, handler=noted))
    pipeline.start()
    try:
        first = await his.ok("1101", FOUND)
        assert threads == ["yibao-writer"]
        refused = await his.call("1101", MISSING)
        assert refused["infcode"] == -1 and "未查询到参保人员" in refused["err_msg"]
        # a visit registered in between is seen by the next read: the pre-settlement finds
        # it, without lines
        p = world["people"]["emp"]
        reg = await his.ok("2201", register_input(p, ipt_otp_no="OTP-WRITER"))
        pre = await his.call("2206", settle_input(p, reg["data"]["mdtrt_id"], "0.00"))
        assert pre["infcode"] == -1 and "没有待结算的费用明细" in pre["err_msg"]
        assert await his.ok("1101", FOUND) == first
    finally:
        pipeline.stop()


async def test_a_flow_reads_its_person_once_and_answers_as_without_the_cache(
    world: dict[str, Any], person_reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    his = world["his"]
    pipeline: CallPipeline = world["app"].state.nhsa_gateway.pipeline
    pipeline.start()
    try:
        cached = await _flow(his, world["people"]["emp"], "OTP-CACHED")
        # 1101's look-up by certificate, its insurances and identities; the last 1101's
        # look-up and insurances again (the 2207's new balance evicted them)
        assert len(person_reads) == 5
        person_reads.clear()
        # the same flow for a person alike but for the name, every row from the store
        monkeypatch.setattr(row_cache, "of", lambda conn: None)
        uncached = await _flow(his, world["people"]["emp2"], "OTP-UNCACHED")
        assert len(person_reads) > 10
    finally:
        pipeline.stop()
    assert cached == uncached
    assert cached[2]["acct_pay"] > 0 and cached[3][0]["balc"] == cached[2]["balc"]
