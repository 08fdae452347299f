"""The MySQL driver (issue 22): mysqlclient (C) where it is installed, PyMySQL as the fallback,
pinned by YIBAO_MYSQL_DRIVER; mysqlclient's errors classified like PyMySQL's."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pymysql
import pytest

try:
    import MySQLdb
    import MySQLdb.converters
except ImportError:  # built only where libmariadb-dev is installed (`.ci/run` installs it)
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("mysqlclient is not installed: apt-get install libmariadb-dev pkg-config, "
                "then pip install mysqlclient", allow_module_level=True)  # fmt: skip
from sqlalchemy import exc as sa_exc

from yibao.errors import ConfigError
from yibao.storage import engine as engine_mod
from yibao.storage import faults
from yibao.storage.engine import (
    MysqlTimeouts,
    _mysql_connect_args,
    datetime_literal,
    mysqldb_conversions,
    resolve_mysql_url,
)

URL = "mysql+pymysql://root:secret@127.0.0.1:3306/yibao"


def test_auto_takes_mysqlclient_when_installed() -> None:
    assert engine_mod.mysqlclient_available()
    assert resolve_mysql_url(URL) == "mysql+mysqldb://root:secret@127.0.0.1:3306/yibao"
    assert resolve_mysql_url(URL, "pymysql") == URL
    assert resolve_mysql_url(URL.replace("pymysql", "mysqldb"), "auto").startswith("mysql+mysqldb")
    assert resolve_mysql_url("sqlite:////tmp/x.db", "mysqlclient") == "sqlite:////tmp/x.db"


def test_falls_back_to_pymysql_without_mysqlclient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_mod, "mysqlclient_available", lambda: False)
    assert resolve_mysql_url(URL) == URL
    with pytest.raises(ConfigError, match="YIBAO_MYSQL_DRIVER=pymysql"):
        resolve_mysql_url(URL, "mysqlclient")
    with pytest.raises(ConfigError, match="YIBAO_MYSQL_DRIVER"):
        resolve_mysql_url(URL, "odbc")


def test_other_drivers_are_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match="asyncmy"):
        engine_mod.make_engine("mysql+asyncmy://root@127.0.0.1/yibao")


def test_mysqlclient_takes_whole_second_timeouts() -> None:
    args = _mysql_connect_args(MysqlTimeouts(connect=0.5, read=2.5, write=0.2), "mysqldb")
    assert args.pop("conv") is mysqldb_conversions()
    assert args == {
        "charset": "utf8mb4",
        "client_flag": 2,  # FOUND_ROWS, which the dialect would have set
        "connect_timeout": 1,
        "read_timeout": 3,
        "write_timeout": 1,
    }
    assert _mysql_connect_args(MysqlTimeouts(read=2.5), "pymysql")["read_timeout"] == 2.5


@pytest.mark.parametrize("driver", ["mysqldb", "pymysql"])
def test_the_client_flags_keep_found_rows_and_add_multi_statements(driver: str) -> None:
    """The flags replace the dialect's own: FOUND_ROWS (rowcount = rows matched) always,
    MULTI_STATEMENTS for the deferred writes (`storage.deferred`) when asked — the protocol's
    values, which both drivers' constants carry."""
    from MySQLdb.constants import CLIENT as MYSQLDB_CLIENT
    from pymysql.constants import CLIENT as PYMYSQL_CLIENT

    for client in (MYSQLDB_CLIENT, PYMYSQL_CLIENT):
        assert client.FOUND_ROWS == 2 and client.MULTI_STATEMENTS == 1 << 16
    plain = _mysql_connect_args(MysqlTimeouts(), driver)["client_flag"]
    multi = _mysql_connect_args(MysqlTimeouts(), driver, multi_statements=True)["client_flag"]
    assert plain == 2 and multi == 2 | 1 << 16


@pytest.mark.parametrize("code", [2002, 2003, 2006, 2013, 1969, 1040])
def test_mysqlclient_outages_are_unavailable(code: int) -> None:
    wrapped = sa_exc.OperationalError("SELECT 1", {}, MySQLdb.OperationalError(code, "gone"))
    assert faults.unavailable(wrapped) is not None
    # the same as PyMySQL's
    same = sa_exc.OperationalError("SELECT 1", {}, pymysql.err.OperationalError(code, "gone"))
    assert faults.unavailable(same) is not None


def test_mysqlclient_other_errors_stay_errors() -> None:
    syntax = sa_exc.ProgrammingError("SELEC", {}, MySQLdb.ProgrammingError(1064, "syntax"))
    assert faults.unavailable(syntax) is None
    duplicate = sa_exc.IntegrityError("INSERT", {}, MySQLdb.IntegrityError(1062, "dup"))
    assert faults.unavailable(duplicate) is None
    closed = sa_exc.InterfaceError("SELECT 1", {}, MySQLdb.InterfaceError(0, ""))
    assert faults.unavailable(closed) is not None


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 7, 9, 5, 3),
        datetime(2026, 1, 1, 0, 0, 0, 1),
        datetime(2026, 2, 28, 23, 59, 59, 999_999),
        datetime(5, 6, 7, 8, 9, 10),
        datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8))),
    ],
)
def test_a_datetime_is_written_as_the_driver_writes_it(value: datetime) -> None:
    from MySQLdb.times import DateTime2literal

    conv = mysqldb_conversions()
    assert datetime_literal(value, conv) == DateTime2literal(value, conv)
    assert conv[datetime] is datetime_literal
    assert {k: v for k, v in conv.items() if k is not datetime} == {
        k: v for k, v in MySQLdb.converters.conversions.items() if k is not datetime
    }
