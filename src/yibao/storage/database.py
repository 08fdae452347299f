"""The row store as the application sees it: engines, backend, writer, read connections."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from yibao.config import Settings
from yibao.storage import row_cache
from yibao.storage.engine import Backend, MysqlTimeouts, detect_backend, make_engine
from yibao.storage.writer import Writer


class Database:
    """Owns the engines of one row store. Build it at start-up (never at import)."""

    def __init__(self, settings: Settings, *, check: bool = True) -> None:
        self.settings = settings
        self.url = settings.db_url
        timeouts = MysqlTimeouts(
            connect=settings.mysql_connect_timeout_s,
            read=settings.mysql_read_timeout_s,
            write=settings.mysql_write_timeout_s,
            statement=settings.mysql_statement_timeout_s,
        )
        self.engine: Engine = make_engine(
            self.url,
            synchronous=settings.sqlite_synchronous,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            wal_autocheckpoint=settings.sqlite_wal_autocheckpoint,
            temp_store_memory=True,
            writer=True,
            pool_size=settings.mysql_pool_size,
            mysql_driver=settings.mysql_driver,
            mysql_multi_statements=settings.mysql_multi_statements,
            mysql_timeouts=timeouts,
        )
        self.read_engine: Engine = (
            make_engine(self.url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, writer=False)
            if self.url.startswith("sqlite")
            else self.engine
        )
        #: the national interface's plain reads (`call_read`): on the MySQL protocol a small
        #: pool of autocommit connections
        self.call_read_engine: Engine = (
            self.read_engine
            if self.url.startswith("sqlite")
            else make_engine(
                self.url,
                pool_size=settings.read_threads + 2,
                pool_name="call_read",
                mysql_driver=settings.mysql_driver,
                mysql_multi_statements=settings.mysql_multi_statements,
                mysql_autocommit=True,
                mysql_timeouts=timeouts,
            )
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

    @contextmanager
    def call_read(self) -> Iterator[Connection]:
        """The plain SELECTs of a national-interface read (1101, 2206 …; the credential
        generation, a sign-in). On the MySQL protocol each runs as its own transaction
        (autocommit) — the view READ COMMITTED gives a statement inside a transaction too — so
        no ROLLBACK round trip ends them; nothing here may write. On SQLite: `read`."""
        if self.call_read_engine is self.read_engine:
            with self.read() as conn:
                yield conn
            return
        # a cache for the read's rows, so that a settlement's are fetched in one request
        # (`row_cache.prefetch`)
        with self.call_read_engine.connect() as conn, row_cache.for_transaction(conn):
            yield conn

    def close(self) -> None:
        self.writer.stop()
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
        if self.call_read_engine is not self.read_engine:
            self.call_read_engine.dispose()
