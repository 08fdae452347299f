"""Applying a catalog version: the effective terms a file is checked against, the version row,
the bulk insert of its terms and the marking of the terms it supersedes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update

from yibao.catalog.model import CatalogItem, DiseEntry
from yibao.catalog.repo import dise_from_row, item_from_row
from yibao.storage.tables import catalog_dise, catalog_item, catalog_version

#: above this many distinct codes, load all effective terms at once instead of IN lists
_LOAD_ALL_ABOVE = 2000
#: SQLite's bound-parameter limit and MySQL's packet size bound an IN list
_IN_CHUNK = 900

#: (catalog kind, code): "hilist" for 医保目录 items, the catalog kind for code catalogs
TermKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class StoredTerm:
    """The span of an effective stored term (what a new term may not overlap)."""

    row_id: int
    begndate: date
    enddate: date | None
    version_id: int


def effective_spans(conn: Connection, keys: set[TermKey]) -> dict[TermKey, list[StoredTerm]]:
    """The effective stored terms of every key."""
    stored: dict[TermKey, list[StoredTerm]] = {}
    hilist = sorted(code for kind, code in keys if kind == "hilist")
    dise: dict[str, list[str]] = {}
    for kind, code in keys:
        if kind != "hilist":
            dise.setdefault(kind, []).append(code)

    t = catalog_item
    cols = (t.c.item_id, t.c.hilist_code, t.c.begndate, t.c.enddate, t.c.version_id)
    if hilist:
        if len(hilist) > _LOAD_ALL_ABOVE:
            queries = [select(*cols).where(t.c.vali_flag == "1")]
        else:
            queries = [
                select(*cols).where(
                    t.c.vali_flag == "1", t.c.hilist_code.in_(hilist[i : i + _IN_CHUNK])
                )
                for i in range(0, len(hilist), _IN_CHUNK)
            ]
        for q in queries:
            for row_id, code, b, e, v in conn.execute(q):
                key = ("hilist", code)
                if key in keys:
                    stored.setdefault(key, []).append(StoredTerm(row_id, b, e, v))
    d = catalog_dise
    for kind, codes in dise.items():
        codes.sort()
        for i in range(0, len(codes), _IN_CHUNK):
            q = select(d.c.dise_id, d.c.dise_codg, d.c.begndate, d.c.enddate, d.c.version_id).where(
                d.c.vali_flag == "1",
                d.c.catalog_kind == kind,
                d.c.dise_codg.in_(codes[i : i + _IN_CHUNK]),
            )
            for row_id, code, b, e, v in conn.execute(q):
                stored.setdefault((kind, code), []).append(StoredTerm(row_id, b, e, v))
    return stored


def ver_nos(conn: Connection, version_ids: Iterable[int]) -> dict[int, int]:
    """version_id → ver_no."""
    ids = sorted(set(version_ids))
    out: dict[int, int] = {}
    for i in range(0, len(ids), _IN_CHUNK):
        q = select(catalog_version.c.version_id, catalog_version.c.ver_no).where(
            catalog_version.c.version_id.in_(ids[i : i + _IN_CHUNK])
        )
        out.update({int(a): int(b) for a, b in conn.execute(q)})
    return out


def items_by_id(conn: Connection, item_ids: list[int]) -> dict[int, CatalogItem]:
    found: dict[int, CatalogItem] = {}
    for i in range(0, len(item_ids), _IN_CHUNK):
        q = select(catalog_item).where(catalog_item.c.item_id.in_(item_ids[i : i + _IN_CHUNK]))
        found.update({r["item_id"]: item_from_row(r) for r in conn.execute(q).mappings()})
    return found


def dise_by_id(conn: Connection, dise_ids: list[int]) -> dict[int, DiseEntry]:
    found: dict[int, DiseEntry] = {}
    for i in range(0, len(dise_ids), _IN_CHUNK):
        q = select(catalog_dise).where(catalog_dise.c.dise_id.in_(dise_ids[i : i + _IN_CHUNK]))
        found.update({r["dise_id"]: dise_from_row(r) for r in conn.execute(q).mappings()})
    return found


def version_of_source(conn: Connection, *, source: str, ver: str) -> int | None:
    """The id of the version applied from `source` under the label `ver`, if any."""
    row = conn.execute(
        select(catalog_version.c.version_id).where(
            catalog_version.c.source == source, catalog_version.c.ver == ver
        )
    ).first()
    return None if row is None else int(row[0])


def insert_version(
    conn: Connection,
    *,
    version_id: int,
    ver_no: int,
    ver: str,
    kinds: str,
    source: str,
    row_count: int,
    rejected_count: int,
    memo: str | None,
    created_at: datetime,
    created_by: str,
) -> None:
    conn.execute(
        insert(catalog_version).values(
            version_id=version_id,
            ver_no=ver_no,
            ver=ver,
            kinds=kinds,
            source=source,
            row_count=row_count,
            rejected_count=rejected_count,
            memo=memo,
            created_at=created_at,
            created_by=created_by,
        )
    )


def insert_items(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """`catalog_item` rows as `repo.item_to_row` builds them."""
    bulk_insert(conn, catalog_item, rows)


def insert_dise(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """`catalog_dise` rows as `repo.dise_to_row` builds them."""
    bulk_insert(conn, catalog_dise, rows)


def supersede(
    conn: Connection, *, item_ids: list[int], dise_ids: list[int], version_id: int
) -> None:
    """Mark stored terms no longer effective: version `version_id` re-published them."""
    for table, pk, gone in (
        (catalog_item, "item_id", item_ids),
        (catalog_dise, "dise_id", dise_ids),
    ):
        for i in range(0, len(gone), _IN_CHUNK):
            conn.execute(
                update(table)
                .where(table.c[pk].in_(gone[i : i + _IN_CHUNK]))
                .values(vali_flag="0", superseded_by=version_id)
            )


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` with one DBAPI executemany, each column's bind processor applied here.

    SQLAlchemy's own executemany spends most of its time building per-row parameter dicts;
    for hundreds of thousands of rows this does the same conversions (Scaled → integer,
    dates → the dialect's form) in a tight loop. Falls back to `insert(table)` for drivers
    whose paramstyle is not positional.
    """
    if not rows:
        return
    dialect = conn.dialect
    if dialect.paramstyle == "qmark":
        mark = "?"
    elif dialect.paramstyle in ("format", "pyformat"):
        mark = "%s"
    else:
        conn.execute(insert(table), rows)
        return
    columns = list(table.columns)
    names = [c.name for c in columns]
    procs = [c.type.bind_processor(dialect) for c in columns]
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join([mark] * len(names))})"
    )
    pairs = list(zip(names, procs, strict=True))
    params = [
        tuple(proc(row[name]) if proc is not None else row[name] for name, proc in pairs)
        for row in rows
    ]
    conn.exec_driver_sql(sql, params)
