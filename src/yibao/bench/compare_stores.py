"""Two data dirs loaded the same way hold the same city: every row-store table and every
replica table compared row by row (all columns but the write timestamps, which say when the
load ran, not what it wrote).

    python -m yibao.bench.compare_stores A B

A and B are data dirs (each with `yibao.db` and `replica.duckdb`). Prints one line per table
(rows on each side, rows only in A, rows only in B) and exits 1 when any table differs.
Besides the timestamps, the columns filled from the clock or a salt (`IGNORED_IN`) are left
out.
Rows are compared as multisets of their values, so the order they were written in does not
matter; a simulated city's ids are deterministic for a seed, so they are compared too.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

#: columns that hold the wall-clock time of the load, not what it wrote
IGNORED = frozenset({"created_at", "updated_at", "cancelled_at", "applied_at", "loaded_at"})
#: per table, columns filled from the clock or a random salt: the catalog's ids come from
#: `kit.ids` (time-based), a password hash is salted, the replica notes when it applied
IGNORED_IN: dict[str, frozenset[str]] = {
    "catalog_item": frozenset({"item_id", "version_id", "superseded_by"}),
    "catalog_version": frozenset({"version_id"}),
    "agency_user": frozenset({"password_hash"}),
    "replica_meta": frozenset({"applied_ts_ms", "applied_at_ms"}),
}


@dataclass(frozen=True, slots=True)
class TableDiff:
    store: str
    table: str
    rows_a: int
    rows_b: int
    only_a: int
    only_b: int
    #: a few rows only in A and only in B, to start looking
    sample: tuple[tuple[Any, ...], ...] = ()

    @property
    def equal(self) -> bool:
        return self.only_a == 0 and self.only_b == 0


def _rows_sqlite(path: Path, table: str, columns: Sequence[str]) -> Counter[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cols = ", ".join(f'"{c}"' for c in columns)
        return Counter(conn.execute(f'SELECT {cols} FROM "{table}"'))
    finally:
        conn.close()


def _sqlite_tables(path: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: [r[1] for r in conn.execute(f'PRAGMA table_info("{n}")')] for n in names}
    finally:
        conn.close()


def _duck_tables(path: Path) -> dict[str, list[str]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        names = [
            r[0]
            for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        return {
            n: [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "ORDER BY ordinal_position",
                    [n],
                ).fetchall()
            ]
            for n in names
        }
    finally:
        conn.close()


def _rows_duck(path: Path, table: str, columns: Sequence[str]) -> Counter[tuple[Any, ...]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        cols = ", ".join(f'"{c}"' for c in columns)
        return Counter(tuple(r) for r in conn.execute(f'SELECT {cols} FROM "{table}"').fetchall())
    finally:
        conn.close()


def _diff(
    store: str, table: str, a: Counter[tuple[Any, ...]], b: Counter[tuple[Any, ...]]
) -> TableDiff:
    only_a, only_b = a - b, b - a
    sample = (*list(only_a)[:2], *list(only_b)[:2])
    return TableDiff(
        store,
        table,
        sum(a.values()),
        sum(b.values()),
        sum(only_a.values()),
        sum(only_b.values()),
        sample,
    )


def compare(a: Path, b: Path) -> Iterator[TableDiff]:
    """Every table of both stores, compared (a table missing on one side is all different)."""
    for store, tables, rows in (
        ("yibao.db", _sqlite_tables, _rows_sqlite),
        ("replica.duckdb", _duck_tables, _rows_duck),
    ):
        pa, pb = a / store, b / store
        if not pa.exists() and not pb.exists():
            continue
        ta = tables(pa) if pa.exists() else {}
        tb = tables(pb) if pb.exists() else {}
        for name in sorted(set(ta) | set(tb)):
            skip = IGNORED | IGNORED_IN.get(name, frozenset())
            cols_a = [c for c in ta.get(name, []) if c not in skip]
            cols_b = [c for c in tb.get(name, []) if c not in skip]
            ra = rows(pa, name, cols_a) if name in ta else Counter()
            rb = rows(pb, name, cols_b) if name in tb else Counter()
            if cols_a != cols_b and name in ta and name in tb:
                yield TableDiff(store, f"{name} (columns differ)", sum(ra.values()),
                                sum(rb.values()), sum(ra.values()), sum(rb.values()))  # fmt: skip
                continue
            yield _diff(store, name, ra, rb)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    differing = 0
    for d in compare(args.a, args.b):
        verdict = "equal" if d.equal else "DIFFERENT"
        print(
            f"{d.store:15} {d.table:28} {d.rows_a:>10} {d.rows_b:>10} "
            f"only-a {d.only_a:>8} only-b {d.only_b:>8}  {verdict}"
        )
        if not d.equal:
            differing += 1
            for row in d.sample:
                print(f"    {row!r}"[:600])
    print("same city" if differing == 0 else f"{differing} table(s) differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
