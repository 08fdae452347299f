"""Reads of the settlement statement (5265 and its printable page) beyond what the query
repository already has: the settling institution's name and level."""

from __future__ import annotations

from sqlalchemy import Connection, select

from yibao.settlement.repo.rows import Row
from yibao.storage.tables import fixmedins


def institution(conn: Connection, fixmedins_code: str) -> Row | None:
    query = select(
        fixmedins.c.fixmedins_code, fixmedins.c.fixmedins_name, fixmedins.c.hosp_lv
    ).where(fixmedins.c.fixmedins_code == fixmedins_code)
    row = conn.execute(query).mappings().first()
    return None if row is None else dict(row)
