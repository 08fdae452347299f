"""Chunk spools: the bulk load's worker processes hand their row-store rows to the writer
through small SQLite files instead of pickles.

Why: binding parameters from Python is most of what an insert costs, and `executemany`
would pay it in the one writer process, which the whole load waits on, while `INSERT …
SELECT` from an attached file runs in SQLite's C code. The binding moves to the workers,
which are several and write into plain tables without any index or journal; the pickle
round trip of the rows goes away (figures: docs/measurements.md, bench/RESULTS.md).

The workers write their spools through APSW rather than the standard library's `sqlite3`:
its `executemany` binds a row in less than half the time, which roughly halves the worker's
spool step (`python -m yibao.bench.bulk_worker`; docs/measurements.md). APSW brings its own
SQLite; a spool is a plain SQLite file either library reads. APSW opens nothing but spools,
and has closed a spool before the writer's `sqlite3` attaches it: two SQLite libraries must
never hold the same file open at once in one process, since POSIX locks are per process (the
writer is another process, except in `bench.bulk_worker`, which does both in turn).

A spool holds one chunk, in tables named as the row store's with the columns of
`row_shapes.row_columns` (the constant columns come in as literals at the merge) — except
the fee lines, which are compact (`row_shapes.FEE_LINE_COLUMNS`: the visit's row number in
the spool's `mdtrt`, the line's own values, a shape number) with their shapes in a
`fee_shape` table; the merge joins the three back into fee_detail rows — and the chunk's
persons' final balances and accumulators (`psn_balc`, `psn_accum`), which the merge puts into
`psn_insu` (`UPDATE … FROM`, SQLite 3.33 or later) and `psn_accum`. The writer attaches a
few spools at once (`MERGE_GROUP`, each under its own schema name), copies every table of
each in one transaction, detaches them and deletes them. The spool directory lives beside
the row store (same disk) and goes away when the load ends, whether it completes or not.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import apsw
from sqlalchemy import Table

from yibao.simulate.chunk_rows import ChunkRows
from yibao.simulate.row_shapes import (
    FEE_LINE_COLUMNS,
    FEE_SHAPE_COLUMNS,
    FEE_VISIT_COLUMNS,
    at_rest,
    row_columns,
)
from yibao.storage.tables import diag, fee_detail, mdtrt, psn_accum, setl, setl_fund

#: the row-store tables a chunk fills, in the order they are merged (parents first)
ROW_TABLES: dict[str, Table] = {t.name: t for t in (mdtrt, diag, fee_detail, setl, setl_fund)}
#: a spool's tables and their columns: the row-store tables' (`row_shapes.row_columns`),
#: fee lines compact, and their shapes
SPOOL_COLUMNS: dict[str, tuple[str, ...]] = {
    **{name: row_columns(t) for name, t in ROW_TABLES.items()},
    "fee_detail": FEE_LINE_COLUMNS,
    "fee_shape": ("shape_no INTEGER PRIMARY KEY", *FEE_SHAPE_COLUMNS),
    # the chunk's persons' final balances and accumulators (`person_merge_sql`)
    "psn_balc": ("psn_no", "insutype", "balc"),
    "psn_accum": ("psn_no", "year", "acc_key", "amount"),
}
_SCHEMA = "chunk_spool"
#: spools merged in one transaction. Why more than one: a commit writes every page the
#: transaction dirtied, and the indexes keyed by time (`setl_time`, `fixmedins_code,
#: setl_time`) take each chunk's rows all over their pages, so one transaction per chunk
#: writes those pages again at every chunk: the writer wrote about twice the store's size
#: (docs/simulate.md).
#: SQLite attaches at most ten databases by default.
MERGE_GROUP = 8


def spool_schema(slot: int) -> str:
    """The schema name the spool in `slot` (0 … MERGE_GROUP − 1) is attached under."""
    return f"{_SCHEMA}{slot}"


def literal(value: Any) -> str:
    """An SQL literal of a constant column's at-rest value (None, int or text)."""
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def write_spool(directory: Path, chunk: int, rows: ChunkRows) -> None:
    """Move the chunk's rows into `<directory>/chunk-<n>.db` (the lists are emptied)."""
    path = directory / f"chunk-{chunk:07d}.db"
    for suffix in ("", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)  # a leftover of an earlier attempt
    if not rows.compact:
        raise ValueError("a spool takes compact fee lines: settle with Settler(compact=True)")
    db = apsw.Connection(str(path))
    try:
        # a spool is written once and read once, whole: its largest pages take the fewest
        # system calls and B-tree pages on both sides
        db.execute("PRAGMA page_size=65536")
        db.execute("PRAGMA journal_mode=OFF")  # a spool is thrown away on any failure
        db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN")
        for name, cols in SPOOL_COLUMNS.items():
            db.execute(f"CREATE TABLE {name} ({', '.join(cols)})")
            data = getattr(rows, name)
            if data:
                marks = ", ".join("?" * len(cols))
                db.executemany(f"INSERT INTO {name} VALUES ({marks})", data)
            setattr(rows, name, [])
        db.execute("COMMIT")
    finally:
        db.close()
    rows.spool = str(path)


def column_values(
    table: Table, constants: dict[str, Any], held: str, sources: dict[str, str] | None = None
) -> tuple[str, str]:
    """(column list, value list) of an INSERT into `table`: the constant columns as literals,
    every other column as `held` (a placeholder, or a format with `{column}`) or as its
    expression in `sources`."""
    cols = [c.name for c in table.columns]
    sources = sources or {}
    values = [
        literal(at_rest(table, c, constants[c]))
        if c in constants
        else sources[c]
        if c in sources
        else held.format(column=c)
        for c in cols
    ]
    return ", ".join(cols), ", ".join(values)


def insert_sql(table: Table, paramstyle: str, constants: dict[str, Any] | None = None) -> str:
    """INSERT of row tuples with executemany: a parameter per column the tuple holds (every
    column without `constants`), the constant columns (`row_shapes.CONSTANT_COLUMNS`) as
    literals; `paramstyle` is the driver's (qmark for SQLite, format for PyMySQL)."""
    mark = "?" if paramstyle == "qmark" else "%s"
    cols, values = column_values(table, constants or {}, mark)
    return f"INSERT INTO {table.name} ({cols}) VALUES ({values})"


def merge_sql(table: Table, constants: dict[str, Any], schema: str) -> str:
    """INSERT … SELECT of the table of the spool attached as `schema` into the row store's,
    constants as literals. A fee line's row is put together from its compact row, its shape
    and its visit's mdtrt row (`row_shapes.FEE_LINE_COLUMNS`), read in the compact rows'
    order."""
    if table.name != fee_detail.name:
        cols, values = column_values(table, constants, f"{schema}.{table.name}.{{column}}")
        return f"INSERT INTO main.{table.name} ({cols}) SELECT {values} FROM {schema}.{table.name}"
    source = {
        **{c: f"m.{FEE_VISIT_COLUMNS[c]}" for c in FEE_VISIT_COLUMNS},
        **{c: f"x.{c}" for c in FEE_SHAPE_COLUMNS},
        **{c: f"f.{c}" for c in FEE_LINE_COLUMNS},
    }
    cols, values = column_values(table, constants, "", source)
    # CROSS JOIN keeps the compact rows outermost (SQLite never reorders it): each line then
    # costs two rowid lookups, and the lines go in in the order they were spooled
    return (
        f"INSERT INTO main.fee_detail ({cols}) SELECT {values} "
        f"FROM {schema}.fee_detail AS f CROSS JOIN {schema}.mdtrt AS m "
        f"CROSS JOIN {schema}.fee_shape AS x "
        "WHERE m.rowid = f.visit_row AND x.shape_no = f.shape_no"
    )


def person_merge_sql(now: datetime, schema: str) -> tuple[str, str]:
    """The statements that put a spool's persons' final rows into the row store: each
    balance into `psn_insu.balc`, each accumulator as a new `psn_accum` row stamped `now`. A
    chunk's persons are settled by that chunk alone, so their final rows go in with its other
    rows, in the same transaction."""
    updated_at = literal(at_rest(psn_accum, "updated_at", now))
    return (
        f"UPDATE main.psn_insu SET balc = s.balc FROM {schema}.psn_balc AS s "
        "WHERE psn_insu.psn_no = s.psn_no AND psn_insu.insutype = s.insutype",
        "INSERT INTO main.psn_accum (psn_no, year, acc_key, amount, updated_at) "
        f"SELECT psn_no, year, acc_key, amount, {updated_at} FROM {schema}.psn_accum",
    )


def merge_statements(
    constants: dict[str, dict[str, Any]], now: datetime | None, slots: int = MERGE_GROUP
) -> list[list[str]]:
    """The statements `merge_spools` runs for the spool in each slot: `merge_sql` of each
    table in `ROW_TABLES` (parents first, with `constants[table]`), then `person_merge_sql`'s
    unless `now` is None (a store without the persons)."""
    out = []
    for slot in range(slots):
        schema = spool_schema(slot)
        statements = [merge_sql(t, constants[name], schema) for name, t in ROW_TABLES.items()]
        if now is not None:
            statements.extend(person_merge_sql(now, schema))
        out.append(statements)
    return out


def merge_spools(raw: sqlite3.Connection, paths: list[str], statements: list[list[str]]) -> None:
    """Copy spools into the row store in one transaction on the driver connection `raw` (no
    transaction open): the spool `paths[i]` attached as `spool_schema(i)`, its
    `statements[i]` (`merge_statements`) in order; then detach and delete them. The
    transaction commits or rolls back as a whole."""
    if not 0 < len(paths) <= len(statements):
        raise ValueError(f"merge {len(paths)} spools: 1 … {len(statements)} at a time")
    attached = 0
    try:
        for slot, path in enumerate(paths):
            raw.execute(f"ATTACH DATABASE ? AS {spool_schema(slot)}", (path,))
            attached += 1
        raw.execute("BEGIN IMMEDIATE")
        try:
            for slot in range(len(paths)):
                for statement in statements[slot]:
                    raw.execute(statement)
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
    finally:
        for slot in range(attached):
            raw.execute(f"DETACH DATABASE {spool_schema(slot)}")
    for path in paths:
        os.unlink(path)
