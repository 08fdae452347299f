"""The writer side of the bulk load (`yibao.simulate.bulk`): the row-store connection's setup
for a load (page cache, a fresh store's journal in memory behind the unfinished-load marker,
the spool directory), the chunks' rows into the row store (`ChunkWriter`: spools merged a
group a transaction, or executemany on a MySQL-protocol store), the replica's Arrow tables
after each commit (`ReplicaFeed`) and the persons' final rows.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Engine

from yibao.kit.clock import local_naive_now
from yibao.replica import rows as replica_rows
from yibao.replica.store import ReplicaStore
from yibao.simulate.chunk_rows import ChunkRows
from yibao.simulate.row_shapes import constants_for
from yibao.simulate.spool import (
    MERGE_GROUP,
    ROW_TABLES,
    insert_sql,
    merge_spools,
    merge_statements,
)
from yibao.storage.engine import unfinished_load_marker

#: the most SQLite page cache the bulk writer takes (KiB)
BULK_CACHE_KIB = 6144 * 1024


def bulk_cache_kib() -> int:
    """The bulk writer's page cache: a fifth of the machine's memory, at most 6 GiB (at least
    64 MiB); the load gives it back when it ends.

    Why this much: every merged row goes into three to six indexes, and those keyed by time
    (`setl_time`, `fixmedins_code, setl_time`) take a chunk's rows all over their pages, while
    the tables' new pages stream through the same cache; with a small cache a load re-reads
    index pages from the kernel all through (figures: docs/simulate.md, bench/RESULTS.md)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # pragma: no cover - every Linux answers
        return BULK_CACHE_KIB
    return max(64 * 1024, min(BULK_CACHE_KIB, total // 5 // 1024))


class ChunkWriter:
    """Writes chunks' rows: spools `MERGE_GROUP` at a time with `INSERT … SELECT`, each group
    in a transaction of its own (SQLite; `flush` merges what is held), else with executemany
    inside the caller's transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.raw: Any = conn.connection.driver_connection
        style = conn.dialect.paramstyle
        constants = {name: constants_for(t, now) for name, t in ROW_TABLES.items()}
        self.sql = {name: insert_sql(t, style, constants[name]) for name, t in ROW_TABLES.items()}
        self.merge = merge_statements(constants, now)
        #: spools received and not merged yet (at most MERGE_GROUP − 1 between calls)
        self.held: list[str] = []

    def write(self, rows: ChunkRows, *, last: bool = False) -> None:
        """`last`: no chunk is left to hand the workers, so a spool is merged at once — the
        workers soon run out of work, and a group held until then would be merged by one core
        while the other idles."""
        if rows.spool is not None:
            self.held.append(rows.spool)
            if last or len(self.held) >= MERGE_GROUP:
                self.flush()
            return
        cur = self.raw.cursor()
        for name in ROW_TABLES:
            data = getattr(rows, name)
            if data:
                cur.executemany(self.sql[name], data)
        cur.close()

    def flush(self) -> None:
        """Merge the spools held (their rows are in the row store once this returns)."""
        if self.held:
            paths, self.held = self.held, []
            merge_spools(self.raw, paths, self.merge)


class ReplicaFeed:
    """Arrow tables waiting for the replica; appended after each row-store commit, so the
    replica never holds a row the row store might still roll back."""

    def __init__(self, store: ReplicaStore | None) -> None:
        self.store = store
        self.pending: dict[str, list[pa.Table]] = {}

    def add(self, entity: str, table: pa.Table) -> None:
        if self.store is not None and table.num_rows:
            self.pending.setdefault(entity, []).append(table)

    def flush(self) -> None:
        if self.store is None:
            return
        for entity in (replica_rows.FIXMEDINS, replica_rows.PSN, replica_rows.MDTRT,
                       replica_rows.SETL, replica_rows.FEE):  # fmt: skip
            parts = self.pending.pop(entity, [])
            if parts:
                table = pa.concat_tables(parts)
                self.store.bulk_append(entity, table, refresh_rollups=False)


def spool_dir(engine: Engine) -> Path | None:
    """A fresh spool directory beside the SQLite row store (None for an in-memory store)."""
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(tempfile.mkdtemp(prefix=".bulk-spool-", dir=Path(database).resolve().parent))


def journal_in_memory(raw: sqlite3.Connection, database: str | None) -> Path | None:
    """Put a fresh store's journal in memory for the load, behind the unfinished-load marker
    (`storage.engine.unfinished_load_marker`); None when it stays in WAL (an in-memory store,
    or another connection open on it).

    Why: in WAL every merged page is written twice — into the log at commit, into the file
    at the checkpoint — CPU in the writer, which the whole load waits on, and system time in
    the kernel (docs/simulate.md). A rollback journal in memory still lets a failed merge roll
    back; only a crash midway can damage the file, and the marker keeps every engine off such
    a store until it is deleted."""
    if not database or database == ":memory:":
        return None
    marker = unfinished_load_marker(database)
    marker.write_text(
        f"bulk load of a fresh store, pid {os.getpid()}, started {local_naive_now():%Y-%m-%d %H:%M:%S}\n"
    )
    try:
        (mode,) = raw.execute("PRAGMA journal_mode=MEMORY").fetchone()
    except sqlite3.OperationalError:  # another connection holds the store open
        mode = "wal"
    if str(mode).lower() != "memory":
        marker.unlink()
        return None
    return marker


def journal_back_to_wal(raw: sqlite3.Connection, marker: Path) -> None:
    (mode,) = raw.execute("PRAGMA journal_mode=WAL").fetchone()
    if str(mode).lower() != "wal":  # pragma: no cover - the loader holds the only connection
        raise RuntimeError(f"the row store stayed in journal mode {mode} after the bulk load")
    marker.unlink(missing_ok=True)


def final_person_rows(
    conn: Connection,
    persons: dict[str, tuple[Decimal, dict[tuple[int, str], Decimal]]],
    insutype: dict[str, str],
    now: datetime,
) -> None:
    raw: Any = conn.connection.driver_connection
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cur = raw.cursor()
    cur.executemany(
        f"UPDATE psn_insu SET balc = {mark} WHERE psn_no = {mark} AND insutype = {mark}",
        [(int(b * 100), psn_no, insutype[psn_no]) for psn_no, (b, _acc) in persons.items()],
    )
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    cur.executemany(
        f"INSERT INTO psn_accum (psn_no, year, acc_key, amount, updated_at) VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
        [
            (psn_no, year, key, int(amount * 100), stamp)
            for psn_no, (_b, acc) in persons.items()
            for (year, key), amount in acc.items()
        ],
    )
    cur.close()
