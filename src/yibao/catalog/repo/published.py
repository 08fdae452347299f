"""What the catalog publishes to institutions: the rows of a 13xx download, the file kept for
9102, and the pages of the 1312 query."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, RowMapping, and_, func, insert, or_, select

from yibao.catalog.commands import CatalogItemQuery
from yibao.storage.tables import catalog_dise, catalog_item, catalog_version, file_store

#: the 1312 filters compared for equality, by their national field names
_EQUAL_FILTERS = ("hilist_code", "list_type", "med_chrgitm_type", "chrgitm_lv", "lmt_used_flag")


def items_after(conn: Connection, list_type: str, after: int) -> list[RowMapping]:
    """Effective 医保目录 rows of `list_type` from versions after `after`, with `ver_no`."""
    t, v = catalog_item, catalog_version
    query = (
        select(t, v.c.ver_no)
        .join(v, v.c.version_id == t.c.version_id)
        .where(t.c.vali_flag == "1", t.c.list_type == list_type, v.c.ver_no > after)
        .order_by(t.c.hilist_code, t.c.begndate)
    )
    return list(conn.execute(query).mappings())


def dise_after(conn: Connection, catalog_kind: str, after: int) -> list[RowMapping]:
    """Effective code-catalog rows of `catalog_kind` from versions after `after`, with `ver_no`."""
    t, v = catalog_dise, catalog_version
    query = (
        select(t, v.c.ver_no)
        .join(v, v.c.version_id == t.c.version_id)
        .where(t.c.vali_flag == "1", t.c.catalog_kind == catalog_kind, v.c.ver_no > after)
        .order_by(t.c.dise_codg, t.c.begndate)
    )
    return list(conn.execute(query).mappings())


def store_download(
    conn: Connection,
    *,
    file_qury_no: str,
    fixmedins_code: str,
    filename: str,
    content: bytes,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    """Keep a generated download for the institution to fetch with 9102."""
    conn.execute(
        insert(file_store).values(
            file_qury_no=file_qury_no,
            fixmedins_code=fixmedins_code,
            filename=filename,
            direction="download",
            content=content,
            created_at=created_at,
            expires_at=expires_at,
        )
    )


def stored_file(conn: Connection, file_qury_no: str) -> RowMapping | None:
    """A kept file whoever it belongs to: the caller tells "not yours" from "no such file"."""
    query = select(file_store).where(file_store.c.file_qury_no == file_qury_no)
    return conn.execute(query).mappings().first()


def _item_filter(q: CatalogItemQuery) -> ColumnElement[bool]:
    t, v = catalog_item, catalog_version
    conds: list[ColumnElement[bool]] = [
        v.c.created_at >= q.updt_time,
        t.c.vali_flag == q.vali_flag,
    ]
    for name in _EQUAL_FILTERS:
        value = getattr(q, name)
        if value:
            conds.append(t.c[name] == value)
    if q.hilist_name:
        conds.append(t.c.hilist_name.contains(q.hilist_name, autoescape=True))
    for name in ("wubi", "pinyin"):
        value = getattr(q, name)
        if value:
            conds.append(t.c[name].startswith(value.upper(), autoescape=True))
    if q.begndate:
        conds.append(t.c.begndate >= q.begndate)
    if q.query_date:
        conds.append(
            and_(
                t.c.begndate <= q.query_date,
                or_(t.c.enddate.is_(None), t.c.enddate >= q.query_date),
            )
        )
    return and_(*conds)


def item_page(
    conn: Connection, q: CatalogItemQuery, *, limit: int, offset: int
) -> tuple[int, list[RowMapping]]:
    """(count of all matches, one page of them with `ver_time` and `ver_by` of their version)."""
    t, v = catalog_item, catalog_version
    where = _item_filter(q)
    total = int(
        conn.execute(
            select(func.count())
            .select_from(t.join(v, v.c.version_id == t.c.version_id))
            .where(where)
        ).scalar_one()
    )
    rows = conn.execute(
        select(t, v.c.created_at.label("ver_time"), v.c.created_by.label("ver_by"))
        .join(v, v.c.version_id == t.c.version_id)
        .where(where)
        .order_by(t.c.hilist_code, t.c.begndate, t.c.item_id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    return total, list(rows)
