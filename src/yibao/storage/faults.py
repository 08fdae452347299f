"""Which driver errors mean "the row store is unavailable", and the one log line they earn.

A MySQL-protocol server that is down, restarting or frozen past the configured timeouts, or a
SQLite file on a full disk or a read-only directory, fails every call the same way. Such a
failure is not a bug: the caller answers `errors.DB_UNAVAILABLE` (national interface ``-1``,
console HTTP 503) and the log gets one line per interval with a count (`kit.ratelog`), not a
traceback per call (issue 23). Recovery needs nothing here: the MySQL pool pre-pings and
invalidates broken connections, SQLite reopens on the next call.
"""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy import exc as sa_exc

from yibao.errors import DB_UNAVAILABLE, StorageUnavailable
from yibao.kit.ratelog import RateLimitedLog

log = logging.getLogger(__name__)
outage_log = RateLimitedLog(log, interval_s=10.0)

# PyMySQL / MariaDB / MySQL error numbers that mean the server cannot serve now:
# 1040 too many connections, 1053 server shutdown in progress, 1927 connection killed (MariaDB),
# 1969 max_statement_time exceeded (MariaDB), 3024 max_execution_time exceeded (MySQL),
# 8005 write conflict and 9001-9005 TiKV/PD unavailable (TiDB), 2002/2003 cannot connect,
# 2006 server gone away, 2013 lost connection (also a read/write timeout), 2055 lost at handshake.
_MYSQL_UNAVAILABLE = frozenset(
    {1040, 1053, 1927, 1969, 3024, 9001, 9002, 9003, 9004, 9005, 2002, 2003, 2006, 2013, 2055}
)
# SQLite primary result codes: 5 BUSY (past busy_timeout), 8 READONLY, 10 IOERR, 13 FULL,
# 14 CANTOPEN (https://www.sqlite.org/rescode.html).
_SQLITE_REASON = {
    5: "数据库被锁定 (database locked past the busy timeout)",
    8: "数据目录只读 (the data directory or file is read-only)",
    10: "磁盘读写错误 (disk I/O error)",
    13: "磁盘已满 (disk full)",
    14: "数据库文件无法打开 (cannot open the database file)",
}


#: the exception classes a driver failure arrives as (for handlers registered by class)
DRIVER_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    sqlite3.Error,
)


def _mysql_code(orig: BaseException) -> int | None:
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return int(args[0])
    return None


def unavailable(exc: BaseException) -> StorageUnavailable | None:
    """The `StorageUnavailable` to answer for `exc`, or None when `exc` is something else
    (a constraint, a bug: those keep their own handling)."""
    if isinstance(exc, StorageUnavailable):
        return exc
    if isinstance(exc, sa_exc.TimeoutError):  # every pooled connection busy past pool_timeout
        return StorageUnavailable(f"{DB_UNAVAILABLE}: 连接池已满 (connection pool exhausted)")
    orig: BaseException | None = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return StorageUnavailable(DB_UNAVAILABLE)
    if orig is None:
        return None
    if isinstance(orig, sqlite3.OperationalError | sqlite3.DatabaseError):
        code = getattr(orig, "sqlite_errorcode", None)
        reason = _SQLITE_REASON.get(code & 0xFF) if isinstance(code, int) else None
        if reason is None:
            return None
        return StorageUnavailable(f"{DB_UNAVAILABLE}: {reason}")
    module = type(orig).__module__
    if module.startswith("MySQLdb"):  # mysqlclient: the same error numbers as PyMySQL
        kinds = {cls.__name__ for cls in type(orig).__mro__}
        if "InterfaceError" in kinds:  # the connection is already closed
            return StorageUnavailable(DB_UNAVAILABLE)
        if "OperationalError" in kinds and _mysql_code(orig) in _MYSQL_UNAVAILABLE:
            return StorageUnavailable(DB_UNAVAILABLE)
        return None
    if module.startswith("pymysql"):
        from pymysql import err as my_err

        if isinstance(orig, my_err.InterfaceError):  # the connection is already closed
            return StorageUnavailable(DB_UNAVAILABLE)
        if isinstance(orig, my_err.OperationalError) and _mysql_code(orig) in _MYSQL_UNAVAILABLE:
            return StorageUnavailable(DB_UNAVAILABLE)
    return None


def describe(exc: BaseException) -> str:
    """One line naming the driver error (for the rate-limited log, without a traceback)."""
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    text = str(orig).splitlines()[0] if str(orig) else ""
    return f"{type(orig).__module__}.{type(orig).__name__}: {text}"[:300]


def report(where: str, exc: BaseException) -> None:
    """Log an unavailable row store once per interval per driver error (one outage seen by
    the writer and by each call it fails is one line)."""
    line = describe(exc)
    outage_log.report(line, f"row store unavailable ({where}): {line}")


def recovered(where: str) -> None:
    """The row store answered again (`where`: the caller): an outage logged by `report` gets
    its last counts and one line saying it ended; nothing at all when there was none (the
    cost on the hot path is one attribute read)."""
    if outage_log.active and outage_log.flush():
        log.warning("row store available again (%s)", where)


class _PoolOutageFilter(logging.Filter):
    """SQLAlchemy's pool logs a traceback when it cannot roll back a connection the server
    dropped ("Exception during reset or similar"): during an outage that is one traceback per
    pooled connection. Such a record becomes the rate-limited line; other records pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and unavailable(exc) is not None:
            report("pool", exc)
            return False
        return True


_POOL_FILTER = _PoolOutageFilter()


def quiet_pool_outages(engine_pool_logger: str = "sqlalchemy.pool.impl.QueuePool") -> None:
    """Install the filter on the pool's logger (idempotent)."""
    logger = logging.getLogger(engine_pool_logger)
    if _POOL_FILTER not in logger.filters:
        logger.addFilter(_POOL_FILTER)
