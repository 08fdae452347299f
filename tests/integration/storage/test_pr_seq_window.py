"""The change log's `seq` on SQLite: from the writer's memory inside a group commit (one read
of the high-water mark and one counter write per group commit, none per transaction), consecutive,
strictly increasing across restarts, and never colliding with a bulk load's reservation or
with seqs a trim deleted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, event, select

from yibao.storage import changelog
from yibao.storage.engine import make_engine
from yibao.storage.tables import change_log, seq_counter
from yibao.storage.writer import Writer


@pytest.fixture
def sq(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


def _log(n: int, tag: str = "x") -> Any:
    def job(conn: Connection) -> list[int]:
        return changelog.append_many(
            conn, [("fixmedins", f"{tag}{i}", {"i": i}, "upsert") for i in range(n)]
        )

    return job


def _seqs(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [int(s) for s in conn.scalars(select(change_log.c.seq).order_by(change_log.c.seq))]


def _counter(engine: Engine) -> int | None:
    with engine.connect() as conn:
        value = conn.execute(
            select(seq_counter.c.last_value).where(seq_counter.c.name == "change_log")
        ).scalar_one_or_none()
    return None if value is None else int(value)


def _batched(writer: Writer, jobs: list[Any]) -> list[Any]:
    """Run `jobs` in one group commit (the writer is held on a first job meanwhile: once it
    is inside that job, everything queued lands in its next batch)."""
    gate, holding = threading.Event(), threading.Event()
    writer.submit(lambda conn: (holding.set(), gate.wait(10)))
    assert holding.wait(10)
    futures = [writer.submit(job) for job in jobs]
    gate.set()
    return [f.exception(10) or f.result(10) for f in futures]


def test_a_group_commit_reads_the_mark_once_and_writes_the_counter_once(sq: Engine) -> None:
    statements: list[str] = []

    @event.listens_for(sq, "connect")
    def _trace(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.set_trace_callback(statements.append)

    sq.dispose()  # new connections, traced
    writer = Writer(sq, group_commit=True)
    try:
        assert writer.run_sync(_log(1, "first")) == [1]  # a new store: the counter row made
        statements.clear()
        results = _batched(writer, [_log(2, f"j{j}") for j in range(20)])
    finally:
        writer.stop()
    assert [s for r in results for s in r] == list(range(2, 42))
    on_counter = [s for s in statements if "seq_counter" in s]
    # one read of the high-water mark and one counter write for the whole group commit
    assert len(on_counter) == 2
    assert on_counter[0].startswith("SELECT") and on_counter[1].startswith("UPDATE")
    assert _seqs(sq) == list(range(1, 42))
    assert _counter(sq) == 41  # the row stays the last seq, as older code expects


def test_a_job_rolled_back_after_logging_leaves_no_hole(sq: Engine) -> None:
    def fails(conn: Connection) -> None:
        _log(3, "bad")(conn)
        raise ValueError("refused")

    def nested_rollback(conn: Connection) -> list[int]:
        nested = conn.begin_nested()
        _log(2, "undone")(conn)
        nested.rollback()
        result: list[int] = _log(1, "kept")(conn)
        return result

    writer = Writer(sq, group_commit=True)
    try:
        results = _batched(writer, [_log(2, "a"), fails, _log(2, "b"), nested_rollback, _log(1)])
    finally:
        writer.stop()
    assert results[0] == [1, 2]
    assert isinstance(results[1], ValueError)
    assert results[2] == [3, 4]  # the failed job's seqs are handed out again
    assert results[3] == [5]
    assert results[4] == [6]
    assert _seqs(sq) == [1, 2, 3, 4, 5, 6]


def test_seqs_strictly_increase_across_restarts_and_a_trimmed_log(sqlite_url: str) -> None:
    seen: list[int] = []
    for round_ in range(3):
        engine = make_engine(sqlite_url)
        writer = Writer(engine, group_commit=True)
        try:
            for j in range(3):
                seen += writer.run_sync(_log(2, f"r{round_}j{j}"))
        finally:
            writer.stop()
        if round_ == 1:
            # every row applied and trimmed: the log is empty, the counter must remember
            with engine.begin() as conn:
                while changelog.trim(conn, upto_seq=10**9, before_ms=2**62, limit=2):
                    pass
            assert _seqs(engine) == [] and _counter(engine) == seen[-1]
        engine.dispose()
    assert seen == list(range(1, 19))


def test_a_bulk_reservation_and_live_changes_never_collide(sq: Engine) -> None:
    writer = Writer(sq, group_commit=True)
    try:
        live = writer.run_sync(_log(3))
        # a bulk load after live changes (its own transaction, outside the writer's window):
        # the counter was never moved by the window, yet the reservation is past the log
        with sq.begin() as conn:
            reserved = changelog.reserve(conn, 1)
        assert reserved == live[-1] + 1
        # live changes after the bulk load continue after its reservation: the hole stays
        after = writer.run_sync(_log(2))
        assert after == [reserved + 1, reserved + 2]
        # an ordinary transaction outside the writer (a command) interleaved with the writer
        with sq.begin() as conn:
            other = changelog.append_many(conn, [("fixmedins", "cmd", {}, "upsert")])
        assert other == [after[-1] + 1]
        assert writer.run_sync(_log(1)) == [other[0] + 1]
        with sq.connect() as conn:
            assert changelog.position(conn) == other[0] + 1
    finally:
        writer.stop()
    seqs = _seqs(sq)
    assert len(seqs) == len(set(seqs)) and reserved not in seqs


def test_a_bulk_reservation_on_a_store_without_a_counter_row(sq: Engine) -> None:
    writer = Writer(sq, group_commit=True)
    try:
        live = writer.run_sync(_log(2))
    finally:
        writer.stop()
    with sq.begin() as conn:
        conn.execute(delete(seq_counter))
        assert changelog.reserve(conn, 1) == live[-1] + 1
    assert _counter(sq) == live[-1] + 1
