"""Which driver errors mean "the row store is unavailable" (issue 23): real SQLite errors for a
full disk and a read-only store, PyMySQL's connection and timeout errors; anything else (a
constraint, a bug) is not an outage."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pymysql
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc

from yibao.errors import DB_UNAVAILABLE, StorageUnavailable
from yibao.storage.engine import MysqlTimeouts, _mysql_connect_args
from yibao.storage.faults import unavailable


def _fill(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.commit()
    return conn


def test_sqlite_disk_full_is_unavailable(tmp_path: Path) -> None:
    conn = _fill(tmp_path / "a.db")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")  # the disk is "full" at today's size
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    down = unavailable(caught.value)
    assert isinstance(down, StorageUnavailable) and down.status_code == 503
    assert down.message.startswith(DB_UNAVAILABLE) and "disk full" in down.message
    conn.rollback()
    conn.execute("PRAGMA max_page_count=1000000")  # space returns: the same write succeeds
    conn.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    conn.commit()
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_sqlite_read_only_store_is_unavailable_through_sqlalchemy(tmp_path: Path) -> None:
    _fill(tmp_path / "b.db").close()
    engine = create_engine(f"sqlite:///file:{tmp_path / 'b.db'}?mode=ro&uri=true")
    with pytest.raises(sa_exc.OperationalError) as caught, engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES ('x')"))
    down = unavailable(caught.value)
    assert down is not None and "read-only" in down.message
    engine.dispose()


def test_sqlite_other_errors_are_not_outages() -> None:
    conn = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute("SELECT * FROM missing")
    assert unavailable(caught.value) is None
    assert unavailable(ValueError("bug")) is None


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (pymysql.err.OperationalError(2003, "Can't connect to MySQL server"), True),
        (pymysql.err.OperationalError(2013, "Lost connection (timed out)"), True),
        (pymysql.err.OperationalError(1969, "max_statement_time exceeded"), True),
        (pymysql.err.InterfaceError(0, ""), True),
        (pymysql.err.OperationalError(1205, "Lock wait timeout"), False),
        (pymysql.err.IntegrityError(1062, "Duplicate entry"), False),
    ],
)
def test_pymysql_errors(error: Exception, outage: bool) -> None:
    wrapped = sa_exc.DBAPIError.instance("SELECT 1", None, error, pymysql.err.Error)
    assert (unavailable(wrapped) is not None) is outage
    assert (unavailable(error) is not None) is outage


def test_connection_invalidated_and_pool_timeout_are_outages() -> None:
    wrapped = sa_exc.DBAPIError.instance(
        "SELECT 1", None, pymysql.err.OperationalError(9999, "?"), pymysql.err.Error
    )
    wrapped.connection_invalidated = True
    assert unavailable(wrapped) is not None
    assert unavailable(sa_exc.TimeoutError("QueuePool limit")) is not None


def test_mysql_connect_args_carry_the_timeouts() -> None:
    args = _mysql_connect_args(MysqlTimeouts(connect=2.4, read=1.5, write=2.5, statement=1))
    assert args["connect_timeout"] == 2 and args["read_timeout"] == 1.5
    assert args["write_timeout"] == 2.5 and args["charset"] == "utf8mb4"
