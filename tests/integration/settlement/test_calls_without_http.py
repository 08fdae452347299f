"""A settlement call runs without HTTP: the interface's handlers take (conn, CallContext,
input), parse the input into commands and call the settlement services; 2601 finds the
message it reverses through `interface.messages.find_message`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from settle_factories import (
    EXAM_A,
    Person,
    call_context,
    echo,
    fee_line,
    registered_visit,
    seed_outpatient_world,
    settle_input,
)

from yibao.errors import InvalidInput, NotFound
from yibao.interface.context import CallContext
from yibao.interface.transactions import outpatient, reversal
from yibao.runtime import Platform
from yibao.storage.tables import msg_log, setl


def _answered(conn: Any, ctx: CallContext, psn_no: str) -> None:
    """What the call pipeline stores for a successful message (2601 reads it)."""
    conn.execute(
        insert(msg_log).values(
            msgid=ctx.msgid,
            fixmedins_code=ctx.fixmedins_code,
            infno=ctx.infno,
            input_sha256="0" * 64,
            infcode=0,
            response="{}",
            psn_no=psn_no,
            ref_id=None,
            created_at=datetime.now(),
        )
    )


def test_outpatient_settlement_and_its_2601(platform: Platform) -> None:
    p = Person("P0001", "110101199003074514")
    seed_outpatient_world(platform, p)
    with platform.db.engine.begin() as conn:
        mdtrt_id = registered_visit(conn, platform, p)
        lines = {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "100.00")]}
        outpatient.upload_fees(conn, call_context(platform, "M2", "2204"), lines)
        pre = outpatient.pre_settle(
            conn, call_context(platform, "M3", "2206"), settle_input(p, mdtrt_id, "100.00")
        )
        assert pre is not None
        with pytest.raises(InvalidInput, match=r"^data\.fulamt_ownpay_amt: 必填 \(required\)$"):
            outpatient.settle(
                conn, call_context(platform, "M4", "2207"), settle_input(p, mdtrt_id, "100")
            )
        ctx = call_context(platform, "M5", "2207")
        done = outpatient.settle(conn, ctx, settle_input(p, mdtrt_id, "100.00", **echo(pre)))
        assert done is not None
        assert done["setlinfo"]["medfee_sumamt"] == pre["setlinfo"]["medfee_sumamt"]
        _answered(conn, ctx, p.psn_no)
    setl_id = done["setlinfo"]["setl_id"]
    with platform.db.engine.begin() as conn:
        revoke = {"data": {"psn_no": p.psn_no, "omsgid": "M5", "oinfno": "2207"}}
        assert reversal.revoke(conn, call_context(platform, "M6", "2601"), revoke) is None
        flag = conn.execute(select(setl.c.vali_flag).where(setl.c.setl_id == setl_id)).scalar()
        assert flag == "0"
        unknown = {"data": {"psn_no": p.psn_no, "omsgid": "M9", "oinfno": "2207"}}
        with pytest.raises(NotFound, match="原交易不存在 'M9'"):
            reversal.revoke(conn, call_context(platform, "M7", "2601"), unknown)


def test_a_pre_settlement_reviews_the_unsettled_lines_beside_the_settled(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bill is the visit's unsettled lines beside its settled ones, whether the call
    names every charge batch ("0000") or one: the settlement's one read of the visit's lines
    serves both."""
    from yibao.review.service import Reviewer

    seen: list[tuple[list[str], list[str]]] = []
    review = Reviewer.review

    def spy(self: Reviewer, conn: Any, stage: Any, bill: Any, **kw: Any) -> Any:
        seen.append(([ln.line_id for ln in bill.lines], [ln.line_id for ln in bill.visit_lines]))
        return review(self, conn, stage, bill, **kw)

    monkeypatch.setattr(Reviewer, "review", spy)
    p = Person("P0001", "110101199003074514")
    seed_outpatient_world(platform, p)
    with platform.db.engine.begin() as conn:
        mdtrt_id = registered_visit(conn, platform, p)
        first = {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "100.00")]}
        outpatient.upload_fees(conn, call_context(platform, "M2", "2204"), first)
        pre = outpatient.pre_settle(
            conn, call_context(platform, "M3", "2206"), settle_input(p, mdtrt_id, "100.00")
        )
        assert pre is not None
        ctx = call_context(platform, "M4", "2207")
        outpatient.settle(conn, ctx, settle_input(p, mdtrt_id, "100.00", **echo(pre)))
        later = {
            "feedetail": [
                fee_line("2", mdtrt_id, p.psn_no, EXAM_A, "50.00", batch="CB0002"),
                fee_line("3", mdtrt_id, p.psn_no, EXAM_A, "50.00", batch="CB0002"),
            ]
        }
        outpatient.upload_fees(conn, call_context(platform, "M5", "2204"), later)
        seen.clear()
        for msgid, batch in (("M6", "0000"), ("M7", "CB0002")):
            outpatient.pre_settle(
                conn,
                call_context(platform, msgid, "2206"),
                settle_input(p, mdtrt_id, "100.00", batch=batch),
            )
    assert seen == [(["2", "3"], ["1"]), (["2", "3"], ["1"])]
