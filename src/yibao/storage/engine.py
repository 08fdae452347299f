"""Engines for the row store.

- SQLite (embedded default): WAL, ``synchronous=FULL`` unless configured otherwise,
  ``foreign_keys=ON``, a busy timeout. Writers start with ``BEGIN IMMEDIATE`` so that two
  writers queue on the lock instead of failing on upgrade. A store with a bulk load's
  marker beside it (`unfinished_load_marker`) is refused: the load stopped midway with its
  journal in memory, so the file may be damaged.
- MySQL protocol (``mysql+pymysql://``): MariaDB/MySQL, or TiDB when ``SELECT tidb_version()``
  answers; on mysqlclient (the C driver) when it is installed, else PyMySQL
  (`resolve_mysql_url`, ``YIBAO_MYSQL_DRIVER``). The pool is per process
  (``YIBAO_MYSQL_POOL_SIZE``); several gateway processes each have their own. Sessions run
  in READ COMMITTED with row locks for read-modify-write.
"""

from __future__ import annotations

import functools
import importlib
import logging
import math
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.pool import NullPool, QueuePool

from yibao.errors import ConfigError, StorageUnavailable
from yibao.obs import metrics
from yibao.storage import deferred, faults

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backend:
    """What the row store is: ``sqlite``, ``mysql`` (MariaDB/MySQL) or ``tidb``."""

    name: str
    version: str

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    @property
    def is_tidb(self) -> bool:
        return self.name == "tidb"


def _check_url(url: str) -> None:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"YIBAO_DATABASE_URL 格式错误 (malformed URL '{url[:60]}'): "
            "use sqlite:////path/yibao.db or mysql+pymysql://user:pass@host:3306/db"
        ) from exc
    if parsed.get_backend_name() not in ("sqlite", "mysql"):
        raise ConfigError(
            f"YIBAO_DATABASE_URL 不支持的数据库 '{parsed.get_backend_name()}' "
            "(supported: sqlite, mysql+pymysql for MariaDB/MySQL/TiDB)"
        )
    if parsed.get_backend_name() == "mysql" and parsed.get_driver_name() not in MYSQL_DRIVERS:
        raise ConfigError(
            f"YIBAO_DATABASE_URL: 不支持的驱动 '{parsed.get_driver_name()}' (use "
            "mysql+pymysql://…; yibao takes mysqlclient when it is installed, see "
            "YIBAO_MYSQL_DRIVER)"
        )


#: the MySQL drivers yibao runs on, by SQLAlchemy's driver name
MYSQL_DRIVERS = ("pymysql", "mysqldb")
#: `YIBAO_MYSQL_DRIVER` values: auto (mysqlclient when it imports, else PyMySQL) or one of them
DRIVER_CHOICES = ("auto", "mysqlclient", "pymysql")


@functools.cache
def mysqlclient_available() -> bool:
    """mysqlclient (the C driver, module MySQLdb) imports here."""
    try:
        importlib.import_module("MySQLdb")
    except ImportError:
        return False
    return True


def resolve_mysql_url(url: str, driver: str = "auto") -> str:
    """The URL with the MySQL driver yibao runs: `mysql+mysqldb://` (mysqlclient, the C driver)
    when `driver` is ``mysqlclient``, or ``auto`` and it is installed; else `mysql+pymysql://`
    (pure Python). A URL that names mysqldb keeps it; SQLite URLs are returned as they are."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "mysql":
        return url
    if driver not in DRIVER_CHOICES:
        raise ConfigError(f"YIBAO_MYSQL_DRIVER 应为 {'/'.join(DRIVER_CHOICES)} (got '{driver}')")
    named = parsed.get_driver_name()
    if named == "mysqldb" or driver == "mysqlclient":
        chosen = "mysqldb"
    elif driver == "pymysql":
        chosen = "pymysql"
    else:
        chosen = "mysqldb" if mysqlclient_available() else "pymysql"
    if chosen == "mysqldb" and not mysqlclient_available():
        raise ConfigError(
            "mysqlclient 未安装 (the C MySQL driver is not installed: pip install mysqlclient, "
            "which needs libmariadb-dev and pkg-config; or set YIBAO_MYSQL_DRIVER=pymysql)"
        )
    return parsed.set(drivername=f"mysql+{chosen}").render_as_string(hide_password=False)


def unfinished_load_marker(database: str | Path) -> Path:
    """The file a bulk load into a fresh SQLite store keeps beside it while the store's
    journal is in memory (`yibao.simulate.bulk`): a crash in that window can leave the file
    damaged, so no engine opens a store while its marker is there."""
    path = Path(database)
    return path.with_name(path.name + ".bulk-loading")


def _refuse_unfinished_load(database: str) -> None:
    if not database or database == ":memory:":
        return
    marker = unfinished_load_marker(database)
    if marker.exists():
        name = Path(database).name
        raise ConfigError(
            f"行存储的批量加载未完成 (a bulk load into {database} stopped before it finished; "
            f"{marker.name} is its marker): the store may be incomplete or damaged. Delete "
            f"{name}, {name}-wal, {name}-shm and {marker.name} in {Path(database).parent}, "
            "then run `yibao init` and the load again"
        )


@dataclass(frozen=True)
class MysqlTimeouts:
    """Timeouts of a MySQL-protocol store (seconds; `config.Settings.mysql_*`). A server that
    is down answers within `connect`; a frozen one within `read`/`write`; a statement the
    server runs too long is stopped by the server after `statement` (0: no limit)."""

    connect: float = 3.0
    read: float = 5.0
    write: float = 5.0
    statement: float = 4.0


def datetime_literal(value: Any, conversions: Any) -> Any:
    """A naive datetime as mysqlclient writes it into a statement (`'YYYY-MM-DD HH:MM:SS'`,
    `.ffffff` when it has microseconds) through `isoformat`, which is C, where the driver's own
    encoder formats each field in Python — every settlement binds several datetimes.
    Anything else goes to the driver's encoder."""
    if type(value) is datetime and value.tzinfo is None:
        return b"'" + value.isoformat(" ").encode() + b"'"
    from MySQLdb.times import DateTime2literal

    return DateTime2literal(value, conversions)


@functools.cache
def mysqldb_conversions() -> dict[Any, Any]:
    """mysqlclient's conversions with `datetime_literal` for datetimes."""
    from MySQLdb.converters import conversions

    return {**conversions, datetime: datetime_literal}


def _mysql_connect_args(
    timeouts: MysqlTimeouts, driver: str = "pymysql", *, multi_statements: bool = False
) -> dict[str, Any]:
    # The client flags replace the dialect's own, so FOUND_ROWS (rowcount = rows matched,
    # which SQLAlchemy expects) is named with MULTI_STATEMENTS (`storage.deferred`).
    flags = deferred.CLIENT_FOUND_ROWS | (
        deferred.CLIENT_MULTI_STATEMENTS if multi_statements else 0
    )
    # PyMySQL takes whole seconds for connect_timeout and any float for the others;
    # mysqlclient (libmariadb) whole seconds for all three.
    if driver == "mysqldb":
        return {
            "charset": "utf8mb4",
            "conv": mysqldb_conversions(),
            "client_flag": flags,
            "connect_timeout": max(1, round(timeouts.connect)),
            "read_timeout": max(1, math.ceil(timeouts.read)),
            "write_timeout": max(1, math.ceil(timeouts.write)),
        }
    return {
        "charset": "utf8mb4",
        "client_flag": flags,
        "connect_timeout": max(1, round(timeouts.connect)),
        "read_timeout": timeouts.read,
        "write_timeout": timeouts.write,
    }


def _install_mysql_hooks(engine: Engine, timeouts: MysqlTimeouts) -> None:
    if timeouts.statement <= 0:
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The statement limit has a different name per server: MariaDB max_statement_time
        # (seconds, every statement), TiDB and MySQL max_execution_time (milliseconds; MySQL
        # applies it to SELECT only). An unknown server keeps its default.
        info = str(dbapi_conn.get_server_info())
        cur = dbapi_conn.cursor()
        try:
            if "MariaDB" in info:
                cur.execute(f"SET SESSION max_statement_time={float(timeouts.statement):.3f}")
            else:
                cur.execute(f"SET SESSION max_execution_time={int(timeouts.statement * 1000)}")
        except Exception:
            log.warning("the row store has no statement time limit (server %s)", info)
        finally:
            cur.close()


#: a pooled MySQL connection unused for this long is pinged before it is handed out
IDLE_PING_S = 1.0
_OPEN = "yibao_tx_open"
_LAST_USED = "yibao_last_used"


def _install_mysql_round_trips(engine: Engine) -> None:
    """Save the two round trips a pool spends per checkout on the MySQL protocol.

    - **Ping only an idle connection.** A connection that died with the server must not be
      handed out (recovery after an outage needs no restart), but one checked in a moment ago
      is alive as far as a ping could tell: ping those unused for `IDLE_PING_S`. A failure
      under load invalidates the whole pool (SQLAlchemy does on a disconnect error), so the
      connections that stayed in it are replaced too.
    - **Roll back on return only what is open.** Every statement runs in a transaction the
      `Connection` tracks (`storage.prepared` begins one too), and closing a `Connection`
      rolls back the one it holds; a connection whose last transaction ended in COMMIT or
      ROLLBACK has nothing to reset. Anything else (a connection used outside a `Connection`,
      a transaction left open) is rolled back as the pool's default would.
    """

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is not None and time.monotonic() - last < IDLE_PING_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"the pooled connection is gone: {exc}") from exc
        if not alive:
            raise DisconnectionError("the pooled connection is gone")

    def mark(conn: Any, is_open: bool) -> None:
        # an invalidated connection (the server went away) is discarded, not reset
        if not conn.invalidated and not conn.closed:
            conn.connection.info[_OPEN] = is_open

    @event.listens_for(engine, "begin")
    def _began(conn: Any) -> None:
        mark(conn, True)

    @event.listens_for(engine, "commit")
    def _committed(conn: Any) -> None:
        mark(conn, False)

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn: Any) -> None:
        mark(conn, False)

    @event.listens_for(engine, "reset")
    def _reset(dbapi_conn: Any, record: Any, state: Any) -> None:
        if state.terminate_only:
            return
        if not state.transaction_was_reset and record.info.get(_OPEN, True):
            dbapi_conn.rollback()
        record.info[_OPEN] = False
        record.info[_LAST_USED] = time.monotonic()


def make_engine(
    url: str,
    *,
    synchronous: str = "FULL",
    busy_timeout_ms: int = 10_000,
    wal_autocheckpoint: int | None = None,
    temp_store_memory: bool = False,
    writer: bool = True,
    pool_size: int = 8,
    mysql_timeouts: MysqlTimeouts | None = None,
    pool_name: str | None = None,
    mysql_driver: str = "auto",
    mysql_multi_statements: bool = True,
    mysql_autocommit: bool = False,
) -> Engine:
    """Build an engine; for SQLite, `writer` selects BEGIN IMMEDIATE (else deferred).
    `pool_name` labels its pool in the metrics (default ``write`` or ``read``).
    `wal_autocheckpoint`: SQLite's WAL pages between automatic checkpoints on this engine's
    connections (None: SQLite's own 1,000). `temp_store_memory`: SQLite's temporary storage —
    the statement journal of savepoints, and sorts and temporary tables — in memory (for the
    group-commit writer, whose jobs are small; a reader's large sort still spills to a file).
    `mysql_autocommit`: every statement its own transaction, and no ROLLBACK sent when a
    `Connection` closes (for plain reads: `Database.call_read`)."""
    name = pool_name or ("write" if writer else "read")
    _check_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            parent = Path(database).parent
            if not parent.exists():
                raise ConfigError(
                    f"数据目录不存在 (data directory missing: {parent}); run `yibao init` first"
                )
        _refuse_unfinished_load(database)
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=1 if writer else pool_size,
            max_overflow=0 if writer else pool_size,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        )
        _install_sqlite_hooks(
            engine,
            synchronous,
            busy_timeout_ms,
            immediate=writer,
            checkpoint=wal_autocheckpoint,
            temp_in_memory=temp_store_memory,
        )
        _instrument_pool(engine, name)
        return engine
    timeouts = mysql_timeouts or MysqlTimeouts()
    url = resolve_mysql_url(url, mysql_driver)
    # pool_timeout bounds the wait for a free connection; the pool's own pre-ping and reset
    # are replaced by `_install_mysql_round_trips` (each cost a round trip per checkout)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=3600,
        pool_timeout=timeouts.connect + timeouts.read,
        pool_reset_on_return=None,
        isolation_level="AUTOCOMMIT" if mysql_autocommit else "READ COMMITTED",
        skip_autocommit_rollback=mysql_autocommit,
        connect_args=_mysql_connect_args(
            timeouts, make_url(url).get_driver_name(), multi_statements=mysql_multi_statements
        ),
    )
    if make_url(url).get_driver_name() == "mysqldb":
        _open_with_quick_literals(engine)
    _install_mysql_hooks(engine, timeouts)
    if mysql_multi_statements:
        deferred.install(engine)
    _install_mysql_round_trips(engine)
    faults.quiet_pool_outages()
    _instrument_pool(engine, name)
    return engine


def _open_with_quick_literals(engine: Engine) -> None:
    """Open mysqlclient connections as `storage.mysqldb.Connection` (its `literal` renders a
    statement's common values in one type look-up each)."""
    from yibao.storage import mysqldb

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return mysqldb.connect(*cargs, **cparams)


def _instrument_pool(engine: Engine, name: str) -> None:
    """Keep the pool gauges (`yibao_db_pool_open`, `yibao_db_pool_in_use`) current."""
    open_ = metrics.POOL_OPEN.labels(pool=name)
    in_use = metrics.POOL_IN_USE.labels(pool=name)

    @event.listens_for(engine, "connect")
    def _opened(_dbapi_conn: Any, _record: Any) -> None:
        open_.inc()

    @event.listens_for(engine, "close")
    def _closed(_dbapi_conn: Any, _record: Any) -> None:
        open_.dec()

    @event.listens_for(engine, "close_detached")
    def _closed_detached(_dbapi_conn: Any) -> None:
        open_.dec()

    @event.listens_for(engine, "checkout")
    def _out(_dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        in_use.inc()

    @event.listens_for(engine, "checkin")
    def _in(_dbapi_conn: Any, _record: Any) -> None:
        in_use.dec()


def make_null_engine(url: str, *, mysql_driver: str = "auto") -> Engine:
    """An engine without pooling (for migrations and one-shot commands)."""
    _check_url(url)
    if url.startswith("sqlite"):
        _refuse_unfinished_load(make_url(url).database or "")
        engine = create_engine(url, poolclass=NullPool)
        _install_sqlite_hooks(engine, "FULL", 10_000, immediate=True)
        return engine
    return create_engine(
        resolve_mysql_url(url, mysql_driver),
        poolclass=NullPool,
        connect_args={"charset": "utf8mb4"},
    )


def _install_sqlite_hooks(
    engine: Engine,
    synchronous: str,
    busy_ms: int,
    *,
    immediate: bool,
    checkpoint: int | None = None,
    temp_in_memory: bool = False,
) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's implicit BEGIN is
        # deferred and would break BEGIN IMMEDIATE).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        if temp_in_memory:
            # The statement journal (the old pages a savepoint or a failing statement rolls
            # back to) in memory, not a temporary file: the group-commit writer takes a
            # savepoint per job, and past 64 KiB SQLite spilled that journal to a file it
            # created, wrote and deleted in every group — more bytes written than the WAL
            # itself. Crash recovery never reads it (the WAL does that): durability is the same.
            cur.execute("PRAGMA temp_store=MEMORY")
        if checkpoint is not None:
            cur.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def detect_backend(engine: Engine) -> Backend:
    """Connect once: which backend answers, and its version. Unreachable → one-line error."""
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                version = conn.exec_driver_sql("select sqlite_version()").scalar_one()
                return Backend("sqlite", str(version))
            try:
                tidb = conn.exec_driver_sql("SELECT tidb_version()").scalar_one()
                return Backend("tidb", str(tidb).splitlines()[0])
            except DBAPIError:
                conn.rollback()
            version = conn.exec_driver_sql("SELECT version()").scalar_one()
            return Backend("mysql", str(version))
    except OperationalError as exc:
        raise StorageUnavailable(
            f"无法连接数据库 (cannot reach the row store {engine.url.render_as_string(hide_password=True)}): "
            f"{str(exc.orig).splitlines()[0] if exc.orig else exc}; check YIBAO_DATABASE_URL and that the server runs"
        ) from None
