"""Unit of work and whole-transaction retry.

A unit of work opens one transaction and **rolls it back unless `commit()` is called**:

    with UnitOfWork(engine) as uow:
        repo.insert(uow.conn, ...)
        uow.commit()

`run_transaction(engine, fn)` runs `fn(conn)` in a fresh transaction and retries the whole
transaction on transient errors: SQLite busy/locked; MySQL 1213 (deadlock) and 1205 (lock wait
timeout); TiDB 9007 (write conflict), 8002 (SELECT FOR UPDATE conflict), 8022 (commit failed,
rolled back), 8028 (schema changed). reference/htap.md §2.2.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

T = TypeVar("T")

TRANSIENT_MYSQL_CODES = frozenset({1213, 1205, 9007, 8002, 8022, 8028})


class UnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.conn: Connection
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        self.conn = self._engine.connect()
        self._tx = self.conn.begin()
        return self

    def commit(self) -> None:
        self._tx.commit()
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed and self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the whole transaction may succeed."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    text = str(orig).lower()
    if "database is locked" in text or "database is busy" in text or "sqlite_busy" in text:
        return True
    args = getattr(orig, "args", ())
    return bool(args and isinstance(args[0], int) and args[0] in TRANSIENT_MYSQL_CODES)


def run_transaction(
    engine: Engine,
    fn: Callable[[Connection], T],
    *,
    attempts: int = 6,
    base_delay: float = 0.01,
) -> T:
    """Run `fn` in one transaction, commit, and retry the whole of it on transient errors."""
    for attempt in range(1, attempts + 1):
        try:
            with UnitOfWork(engine) as uow:
                result = fn(uow.conn)
                uow.commit()
                return result
        except DBAPIError as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            delay = base_delay * (2 ** (attempt - 1)) * (0.5 + random.random())
            log.info(
                "transient error, retrying transaction (%s/%s): %s", attempt, attempts, exc.orig
            )
            time.sleep(delay)
    raise AssertionError("unreachable")
