"""A fresh store's bulk load keeps its journal in memory behind a marker file: the store is
back in WAL with no marker after a load that completes or fails with an error, a store whose
marker is still there (the load was killed) is refused by every engine with what to do, a
store another connection holds open keeps its WAL journal, and the load's big page cache goes
with it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from yibao.errors import ConfigError
from yibao.simulate.bulk import bulk_load
from yibao.simulate.bulk_writer import bulk_cache_kib
from yibao.simulate.model import CityParams
from yibao.storage.engine import make_engine, make_null_engine, unfinished_load_marker

CITY = CityParams(seed=41, persons=200, institutions=12, days=120, settlements=600)


def _journal_mode(database: Path) -> str:
    db = sqlite3.connect(database)
    try:
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()
        return str(mode)
    finally:
        db.close()


def _database(sqlite_url: str) -> Path:
    return Path(sqlite_url.removeprefix("sqlite:///"))


def test_a_fresh_load_runs_with_the_journal_in_memory_and_ends_in_wal(sqlite_url: str) -> None:
    database = _database(sqlite_url)
    engine = make_engine(sqlite_url)
    seen: list[bool] = []
    try:
        report = bulk_load(
            engine,
            CITY,
            workers=2,
            progress=lambda stage, _d, _t: seen.append(
                stage == "settlements" and unfinished_load_marker(database).exists()
            ),
        )
    finally:
        engine.dispose()
    assert "journal in memory" in report.synchronous
    assert any(seen)  # the marker was there while chunks were merged
    assert not unfinished_load_marker(database).exists()
    assert _journal_mode(database) == "wal"
    with make_engine(sqlite_url).connect() as conn:  # opens again
        rows = conn.exec_driver_sql("SELECT count(*) FROM setl").scalar_one()
        assert rows == report.settlements + report.reversals
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


def test_the_pooled_connection_gets_its_own_page_cache_back(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
        bulk_load(engine, CITY, workers=2)
        with engine.connect() as conn:
            assert conn.connection.driver_connection is raw  # the load's connection, pooled
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == before
    finally:
        engine.dispose()
    assert before != -bulk_cache_kib()  # the load's own cache was another size


def test_a_load_that_fails_puts_the_journal_back_and_removes_the_marker(
    failed_load: Path,
) -> None:
    assert not unfinished_load_marker(failed_load).exists()
    assert _journal_mode(failed_load) == "wal"


def test_a_store_left_with_the_marker_is_refused_with_what_to_do(sqlite_url: str) -> None:
    marker = unfinished_load_marker(_database(sqlite_url))
    marker.write_text("bulk load of a fresh store, pid 1\n")
    for opener in (make_engine, make_null_engine):
        with pytest.raises(ConfigError) as refused:
            opener(sqlite_url)
        message = str(refused.value)
        assert "stopped before it finished" in message
        assert "yibao init" in message and marker.name in message


def test_a_store_another_connection_holds_open_keeps_its_wal_journal(sqlite_url: str) -> None:
    database = _database(sqlite_url)
    other = sqlite3.connect(database)
    other.execute("SELECT count(*) FROM psn").fetchone()  # opens the WAL index
    engine = make_engine(sqlite_url)
    try:
        report = bulk_load(engine, CITY, workers=2)
    finally:
        engine.dispose()
        other.close()
    assert "journal in memory" not in report.synchronous
    assert report.settlements > 0
    assert not unfinished_load_marker(database).exists()
    assert _journal_mode(database) == "wal"
