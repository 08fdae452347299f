"""Exactly once across a crash (the applier is killed with SIGKILL mid-way), and rebuilds
from the change log and from the tables (when the log has been trimmed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import factories
import pytest
from sqlalchemy import Connection, Engine, delete, func, select

from yibao.analytics.registry import registry
from yibao.analytics.service import Analytics
from yibao.config import Settings
from yibao.replica import rebuild
from yibao.replica.applier import Applier, ReplicaGap
from yibao.replica.schema import MEASURE_NAMES, ROLLUPS
from yibao.replica.service import Replica
from yibao.replica.store import ReplicaStore
from yibao.replica.verify import verify
from yibao.storage import changelog
from yibao.storage.tables import change_log

PERIOD = {"date_from": "2024-05-01", "date_to": "2024-06-30"}

CHILD = textwrap.dedent(
    """
    import sys, time
    from yibao.config import load_settings
    from yibao.replica.service import Replica
    settings = load_settings(data_dir=sys.argv[1], database_url=sys.argv[2])
    replica = Replica.open(settings)
    replica.applier.batch_rows = 40
    while replica.applier.step():
        print(replica.store.applied_seq, flush=True)
        time.sleep(0.05)
    print("done", flush=True)
    time.sleep(60)
    """
)


def _many(engine: Engine, seeded: dict, n: int) -> None:
    with engine.begin() as conn:
        for i in range(n):
            factories.settlement(
                conn,
                fixmedins_code="H11010100001",
                psn_no=seeded["employee"]["psn_no"],
                medfee=Decimal("10.00") + i,
                setl_time=datetime(2024, 6, 1, 8) + timedelta(minutes=37 * i),
            )


def test_killed_mid_way_rows_and_applied_seq_stay_consistent(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    _many(rs_engine, seeded, 150)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(rs_settings.data_dir), rs_settings.db_url],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        seen = [int(child.stdout.readline()) for _ in range(3)]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert seen == sorted(seen) and seen[-1] >= 120

    store = ReplicaStore(rs_settings.replica_path)
    try:
        applied = store.applied_seq
        assert applied >= seen[-1]
        with rs_engine.connect() as conn:
            expected = conn.execute(
                select(func.count(func.distinct(change_log.c.entity_key)))
                .where(change_log.c.entity == "setl")
                .where(change_log.c.seq <= applied)
            ).scalar_one()
        seq, _c, [(rows,)] = store.query("SELECT count(*) FROM setl_fact")
        assert seq == applied and rows == expected
        sums = ", ".join(f"SUM({m})" for m in MEASURE_NAMES)
        fact = store.query("SELECT SUM(sign), SUM(medfee_sumamt) FROM setl_fact")[2][0]
        for rollup in ROLLUPS:
            got = store.query(f"SELECT {sums} FROM {rollup.table}")[2][0]
            assert (got[0], got[MEASURE_NAMES.index("medfee_sumamt")]) == fact, rollup.table
    finally:
        store.close()

    replica = Replica.open(rs_settings)  # resumes after applied_seq
    try:
        report = verify(replica.store, replica.source, replica.applier.catch_up)
        assert report.ok, [c.as_dict() for c in report.checks if not c.ok]
    finally:
        replica.close()


def _answers(replica: Replica) -> dict[str, object]:
    analytics = Analytics(rowstore=replica.source, replica=replica)
    out = {}
    for name in registry():
        params = {**PERIOD, "fixmedins_code": "H11010100001"} if name == "settlements" else PERIOD
        out[name] = analytics.run_on_replica(name, params).data
    return out


def test_rebuild_from_the_log_and_from_the_tables_give_the_same_replica(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    replica = Replica.open(rs_settings)
    try:
        expected = _answers(replica)
        assert rebuild.choose_source(replica.source) == "log"
        report = replica.rebuild("log")
        assert report.source == "log" and report.applied_seq == replica.latest_seq()
        assert _answers(replica) == expected
        report = replica.rebuild("tables")
        assert report.source == "tables" and report.rows["setl"] == 4
        assert _answers(replica) == expected
        assert replica.store.meta.source == "tables"
    finally:
        replica.close()


def test_a_rebuild_from_the_tables_replays_the_inserts_they_already_showed(
    rs_settings: Settings, rs_engine: Engine, seeded: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tables are read after the log's position is noted: settlements committed in
    between are in both, their changes say `insert`, and the file must still hold them once."""
    replica = Replica.open(rs_settings)
    try:
        expected = _answers(replica)
        counts = replica.store.counts()
        noted = rebuild.position
        calls = []

        def early(conn: Connection) -> int:
            # as if the last settlements committed just after the position was first noted
            calls.append(1)
            return noted(conn) - (6 if len(calls) == 1 else 0)

        monkeypatch.setattr(rebuild, "position", early)
        report = replica.rebuild("tables")
        assert report.source == "tables"
        assert replica.store.counts() == counts
        assert _answers(replica) == expected
        check = verify(replica.store, replica.source, replica.applier.catch_up)
        assert check.ok, [c.as_dict() for c in check.checks if not c.ok]
    finally:
        replica.close()


def test_a_trimmed_log_is_detected_and_the_tables_rebuild_the_replica(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    with rs_engine.begin() as conn:
        latest = conn.execute(select(func.max(change_log.c.seq))).scalar_one()
        conn.execute(delete(change_log).where(change_log.c.seq <= latest - 2))
    # the applier meets the gap at its next step…
    store = ReplicaStore(rs_settings.replica_path)
    try:
        applier = Applier(store, rs_engine)
        try:
            applier.step()
            raise AssertionError("a gap must be reported")
        except ReplicaGap as gap:
            assert gap.applied == 0 and gap.next_seq == latest - 1
        try:
            applier.check_continuity()
            raise AssertionError("a gap must be reported")
        except ReplicaGap:
            pass
    finally:
        store.close()
    assert rebuild.choose_source(rs_engine) == "tables"
    # …and opening the replica rebuilds it from the tables before anything reads it
    replica = Replica.open(rs_settings)
    try:
        assert replica.store.meta.source == "tables"
        assert replica.store.applied_seq == latest
        report = verify(replica.store, replica.source, replica.applier.catch_up)
        assert report.ok, [c.as_dict() for c in report.checks if not c.ok]
    finally:
        replica.close()


def test_a_hole_at_the_end_of_the_log_is_a_gap(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    """A seq allocated without its row (a bulk load's reservation) as the log's last entry:
    no later row shows the gap to `step`, so opening the replica checks for it."""
    with rs_engine.begin() as conn:
        reserved = changelog.allocate(conn, 1)
    store = ReplicaStore(rs_settings.replica_path)
    try:
        applier = Applier(store, rs_engine)
        applier.catch_up()
        assert store.applied_seq == reserved - 1
        try:
            applier.check_continuity()
            raise AssertionError("a gap must be reported")
        except ReplicaGap as gap:
            assert gap.applied == reserved - 1
    finally:
        store.close()
    assert rebuild.choose_source(rs_engine) == "tables"
    replica = Replica.open(rs_settings)
    try:
        assert replica.store.applied_seq == reserved
        replica.applier.check_continuity()
    finally:
        replica.close()


def test_rebuild_file_is_swapped_under_a_reader(
    rs_settings: Settings, seeded: dict, tmp_path: Path
) -> None:
    replica = Replica.open(rs_settings)
    try:
        replica.applier.catch_up()
        before = replica.store.counts()
        replica.rebuild("log")
        assert replica.store.counts() == before
        assert not Path(str(rs_settings.replica_path) + ".rebuild").exists()
    finally:
        replica.close()
