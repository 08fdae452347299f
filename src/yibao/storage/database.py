"""The row store as the application sees it: engines, backend, writer, read connections."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from yibao.config import Settings
from yibao.storage.engine import Backend, MysqlTimeouts, detect_backend, make_engine
from yibao.storage.writer import Writer


class Database:
    """Owns the engines of one row store. Build it at start-up (never at import)."""

    def __init__(self, settings: Settings, *, check: bool = True) -> None:
        self.settings = settings
        self.url = settings.db_url
        self.engine: Engine = make_engine(
            self.url,
            synchronous=settings.sqlite_synchronous,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            writer=True,
            pool_size=settings.mysql_pool_size,
            mysql_driver=settings.mysql_driver,
            mysql_multi_statements=settings.mysql_multi_statements,
            mysql_timeouts=MysqlTimeouts(
                connect=settings.mysql_connect_timeout_s,
                read=settings.mysql_read_timeout_s,
                write=settings.mysql_write_timeout_s,
                statement=settings.mysql_statement_timeout_s,
            ),
        )
        self.read_engine: Engine = (
            make_engine(self.url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, writer=False)
            if self.url.startswith("sqlite")
            else self.engine
        )
        self.backend: Backend = detect_backend(self.engine) if check else Backend("unknown", "")
        self.writer = Writer(
            self.engine,
            group_commit=self.url.startswith("sqlite"),
            batch_max=settings.write_batch_max,
            workers=settings.mysql_write_threads,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction on a reader connection, rolled back when the connection
        closes (once: the pool has nothing left to reset)."""
        with self.read_engine.connect() as conn:
            conn.begin()
            yield conn

    def close(self) -> None:
        self.writer.stop()
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
