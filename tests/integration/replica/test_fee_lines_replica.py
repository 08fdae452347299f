"""The settled fee lines reach the replica's `fee_fact` from the live settlement path: a
settlement sends its lines, a reversal gives them back (they leave `fee_fact`), a 2601 of the
reversal settles them again; `replica verify` compares them with the row store's settled lines
after each step, and a rebuild from the tables gives the same lines."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "settlement"))

from settle_factories import (
    CONSULT_A,
    EXAM_A,
    Person,
    call_context,
    echo,
    fee_line,
    registered_visit,
    seed_outpatient_world,
    settle_input,
)

from yibao.interface.context import CallContext
from yibao.interface.transactions import outpatient, reversal
from yibao.replica.service import Replica
from yibao.replica.verify import verify
from yibao.runtime import Platform
from yibao.storage.tables import msg_log

LINES_SQL = (
    "SELECT setl_id, feedetl_sn, hilist_code, med_chrgitm_type, cnt, det_item_fee_sumamt, "
    "psn_ref, visit_kind FROM fee_fact ORDER BY setl_id, feedetl_sn"
)


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


def _checked(replica: Replica) -> list[tuple[Any, ...]]:
    report = verify(replica.store, replica.source, replica.applier.catch_up)
    assert report.ok, [c.as_dict() for c in report.checks if not c.ok]
    assert {"fee.count", "fee.det_item_fee_sumamt"} <= {c.name for c in report.checks}
    return replica.store.query(LINES_SQL)[2]


def test_settle_reverse_and_reinstate_move_the_lines_in_and_out_of_the_replica(
    platform: Platform,
) -> None:
    p = Person("P0001", "110101199003074514")
    seed_outpatient_world(platform, p)
    with platform.db.engine.begin() as conn:
        mdtrt_id = registered_visit(conn, platform, p)
        lines = [
            fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "100.00"),
            fee_line("2", mdtrt_id, p.psn_no, CONSULT_A, "10.00"),
        ]
        outpatient.upload_fees(conn, call_context(platform, "M2", "2204"), {"feedetail": lines})
        pre = outpatient.pre_settle(
            conn, call_context(platform, "M3", "2206"), settle_input(p, mdtrt_id, "110.00")
        )
        done = outpatient.settle(
            conn,
            call_context(platform, "M4", "2207"),
            settle_input(p, mdtrt_id, "110.00", **echo(pre)),
        )
    setl_id = done["setlinfo"]["setl_id"]
    replica = Replica.open(platform.settings)
    try:
        # the factories seed the person and the institution without change-log rows: the
        # tables bring them; the settlement came through the log
        replica.rebuild(source="tables")
        settled = _checked(replica)
        ref = replica.store.pseudonyms.ref(p.psn_no)
        assert [(r[0], r[1], r[5], r[6], r[7]) for r in settled] == [
            (setl_id, "1", 100, ref, "outpatient"),
            (setl_id, "2", 10, ref, "outpatient"),
        ]
        with platform.db.engine.begin() as conn:
            ctx = call_context(platform, "M5", "2208")
            revs = {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": p.psn_no}}
            outpatient.reverse(conn, ctx, revs)
            _answered(conn, ctx, p.psn_no)
        assert _checked(replica) == []  # given back: no settled line left
        with platform.db.engine.begin() as conn:
            revoke = {"data": {"psn_no": p.psn_no, "omsgid": "M5", "oinfno": "2208"}}
            reversal.revoke(conn, call_context(platform, "M6", "2601"), revoke)
        assert _checked(replica) == settled  # the original stands again, its lines with it
        replica.rebuild(source="tables")
        assert _checked(replica) == settled
    finally:
        replica.close()
