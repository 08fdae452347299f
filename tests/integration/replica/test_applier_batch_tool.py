"""`python -m yibao.bench.applier_batch`: replays the last changes into a copy of the replica,
batch by batch, and times each statement — without touching the data directory's replica."""

from __future__ import annotations

from sqlalchemy import func, select

from yibao.bench.applier_batch import run
from yibao.config import Settings
from yibao.replica.service import Replica
from yibao.replica.store import ReplicaStore
from yibao.storage.tables import change_log


def test_replays_the_last_changes_into_a_copy(rs_settings: Settings, seeded: dict) -> None:
    replica = Replica.open(rs_settings)
    try:
        applied = replica.applier.catch_up()
        with replica.source.connect() as conn:
            logged = conn.execute(select(func.count()).select_from(change_log)).scalar_one()
            conn.rollback()
    finally:
        replica.close()
    before = rs_settings.replica_path.read_bytes()

    result = run(rs_settings, changes=5, per=2)

    assert result["changes"] == min(5, logged) and result["batches"] == 3
    statements = result["statements_ms_per_batch"]
    # the settlements arrive as first images: inserted, their rollups appended
    assert "append setl_fact" in statements, statements
    assert "append agg_day" in statements, statements
    assert all(ms >= 0 for ms in statements.values()) and result["ms_per_batch"] > 0
    assert rs_settings.replica_path.read_bytes() == before  # the copy took the replay
    store = ReplicaStore(rs_settings.replica_path, read_only=True)
    try:
        assert store.applied_seq == applied
    finally:
        store.close()
