"""目录对照 rows: `catalog_mapping` and its append-only `catalog_mapping_event` log.

Reads that list an institution's mappings take `fixmedins_code` as their scope; `None` is the
agency's view over every institution (the console's review queue), never a default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, RowMapping, and_, insert, or_, select, update

from yibao.codes.dicts import MapStatus
from yibao.storage.tables import catalog_item, catalog_mapping, catalog_mapping_event, fixmedins

#: the states a mapping can still be acted on in (cancelled, approved over, reviewed)
OPEN = (MapStatus.SUBMITTED.value, MapStatus.APPROVED.value)

#: SQLite's bound-parameter limit and MySQL's packet size bound an IN list
_IN_CHUNK = 900

m = catalog_mapping
e = catalog_mapping_event


def institution_exists(conn: Connection, fixmedins_code: str) -> bool:
    found = conn.execute(
        select(fixmedins.c.fixmedins_code).where(fixmedins.c.fixmedins_code == fixmedins_code)
    ).first()
    return found is not None


def effective_list_type(conn: Connection, hilist_code: str) -> str | None:
    """The list type of the national code's effective terms (None: not in the catalog)."""
    value = conn.execute(
        select(catalog_item.c.list_type)
        .where(catalog_item.c.hilist_code == hilist_code, catalog_item.c.vali_flag == "1")
        .limit(1)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def by_id(conn: Connection, map_id: int, *, fixmedins_code: str | None) -> RowMapping | None:
    """One mapping; with `fixmedins_code`, only when it is that institution's."""
    query = select(m).where(m.c.map_id == map_id)
    if fixmedins_code is not None:
        query = query.where(m.c.fixmedins_code == fixmedins_code)
    return conn.execute(query).mappings().first()


def of_local_code(
    conn: Connection,
    *,
    fixmedins_code: str,
    medins_list_codg: str,
    states: Sequence[str],
    hilist_code: str | None = None,
) -> list[RowMapping]:
    """The institution's mappings of one local code in `states` (and to `hilist_code`)."""
    query = select(m).where(
        m.c.fixmedins_code == fixmedins_code,
        m.c.medins_list_codg == medins_list_codg,
        m.c.map_stas.in_(list(states)),
    )
    if hilist_code:
        query = query.where(m.c.hilist_code == hilist_code)
    return list(conn.execute(query).mappings().all())


def insert_mapping(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(m).values(**values))


def move_state(
    conn: Connection, *, map_id: int, from_stas: str, to_stas: str, values: Mapping[str, Any]
) -> bool:
    """Move one mapping from `from_stas` to `to_stas`; False when another call moved it first."""
    updated = conn.execute(
        update(m)
        .where(m.c.map_id == map_id, m.c.map_stas == from_stas)
        .values(map_stas=to_stas, **values)
    )
    return updated.rowcount == 1


def insert_event(
    conn: Connection,
    *,
    event_id: int,
    map_id: int,
    event: str,
    map_stas: str,
    actor: str,
    at: datetime,
    memo: str | None,
) -> None:
    conn.execute(
        insert(e).values(
            event_id=event_id,
            map_id=map_id,
            event=event,
            map_stas=map_stas,
            actor=actor,
            at=at,
            memo=memo,
        )
    )


def search(
    conn: Connection,
    *,
    fixmedins_code: str | None,
    map_stas: str | None,
    hilist_code: str | None,
    medins_list_codg: str | None,
    limit: int,
    offset: int,
) -> list[RowMapping]:
    """Mappings matching the filters, newest submission first."""
    query = select(m)
    if fixmedins_code:
        query = query.where(m.c.fixmedins_code == fixmedins_code)
    if map_stas:
        query = query.where(m.c.map_stas == map_stas)
    if hilist_code:
        query = query.where(m.c.hilist_code == hilist_code)
    if medins_list_codg:
        query = query.where(m.c.medins_list_codg == medins_list_codg)
    query = query.order_by(m.c.submitted_at.desc(), m.c.map_id.desc())
    query = query.limit(limit).offset(offset)
    return list(conn.execute(query).mappings())


def events_of_mapping(conn: Connection, map_id: int) -> list[RowMapping]:
    query = select(e).where(e.c.map_id == map_id).order_by(e.c.at, e.c.event_id)
    return list(conn.execute(query).mappings())


def events_of_local_code(
    conn: Connection, *, fixmedins_code: str, medins_list_codg: str
) -> list[RowMapping]:
    """Events of every mapping the institution made of one local code."""
    ids = select(m.c.map_id).where(
        m.c.fixmedins_code == fixmedins_code, m.c.medins_list_codg == medins_list_codg
    )
    query = select(e).where(e.c.map_id.in_(ids)).order_by(e.c.at, e.c.event_id)
    return list(conn.execute(query).mappings())


def open_for_codes(
    conn: Connection, *, fixmedins_code: str, medins_list_codgs: Sequence[str], day: date | None
) -> list[Row[Any]]:
    """(medins_list_codg, hilist_code, map_stas, begndate, enddate) of the institution's open
    mappings of the local codes; with `day`, approved ones only when valid on it."""
    out: list[Row[Any]] = []
    codes = list(medins_list_codgs)
    for i in range(0, len(codes), _IN_CHUNK):
        query = select(
            m.c.medins_list_codg, m.c.hilist_code, m.c.map_stas, m.c.begndate, m.c.enddate
        ).where(
            m.c.fixmedins_code == fixmedins_code,
            m.c.medins_list_codg.in_(codes[i : i + _IN_CHUNK]),
            m.c.map_stas.in_(OPEN),
        )
        if day is not None:
            query = query.where(
                or_(
                    m.c.map_stas == MapStatus.SUBMITTED.value,
                    and_(m.c.begndate <= day, or_(m.c.enddate.is_(None), m.c.enddate >= day)),
                )
            )
        out.extend(conn.execute(query))
    return out
