"""Short reads (1101, 2206 …) on the event loop's own reader connection: each in a read
transaction of its own, begun and rolled back on the driver connection, also after a refusal."""

from __future__ import annotations

from typing import Any

from settle_factories import register_input, settle_input

from yibao.interface.pipeline import CallPipeline

FOUND = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110101199003074514"}}
MISSING = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110101190001010000"}}


async def test_inline_reads_each_in_their_own_transaction(world: dict[str, Any]) -> None:
    his = world["his"]
    pipeline: CallPipeline = world["app"].state.nhsa_gateway.pipeline
    pipeline.start()
    try:
        assert pipeline._reader is not None
        raw = pipeline._reader.connection.dbapi_connection
        first = await his.ok("1101", FOUND)
        assert not raw.in_transaction  # rolled back after the read
        refused = await his.call("1101", MISSING)
        assert refused["infcode"] == -1
        assert not raw.in_transaction  # also after a refusal
        # a visit registered in between is seen by the next read (a new snapshot): the
        # pre-settlement finds it, without lines
        p = world["people"]["emp"]
        reg = await his.ok("2201", register_input(p, ipt_otp_no="OTP-INLINE"))
        pre = await his.call("2206", settle_input(p, reg["data"]["mdtrt_id"], "0.00"))
        assert pre["infcode"] == -1 and "没有待结算的费用明细" in pre["err_msg"]
        assert not raw.in_transaction
        assert await his.ok("1101", FOUND) == first
        assert not raw.in_transaction
    finally:
        pipeline.stop()
