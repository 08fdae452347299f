"""Reads of the query transactions (5201, 5204): an institution's visits and fee lines (a
single visit or settlement is `repo.visit` / `repo.settlement`). Every read takes the institution (`fixmedins_code`) as its scope: another
institution's record is not found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from yibao.storage.tables import fee_detail, mdtrt

Row = dict[str, Any]


def visits_of_person(
    conn: Connection,
    *,
    fixmedins_code: str,
    psn_no: str,
    mdtrt_id: str | None,
    begntime_from: datetime | None,
    begntime_to: datetime | None,
    med_type: str | None,
    limit: int,
) -> list[Row]:
    """The person's visits at the institution, latest first."""
    query = select(mdtrt).where(mdtrt.c.psn_no == psn_no, mdtrt.c.fixmedins_code == fixmedins_code)
    if mdtrt_id:
        query = query.where(mdtrt.c.mdtrt_id == mdtrt_id)
    if begntime_from:
        query = query.where(mdtrt.c.begntime >= begntime_from)
    if begntime_to:
        query = query.where(mdtrt.c.begntime <= begntime_to)
    if med_type:
        query = query.where(mdtrt.c.med_type == med_type)
    rows = conn.execute(query.order_by(mdtrt.c.begntime.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]


def lines_of_visit(conn: Connection, mdtrt_id: str, *, fixmedins_code: str) -> list[Row]:
    """Every fee line of the visit, cancelled ones included, by feedetl_sn."""
    query = (
        select(fee_detail)
        .where(fee_detail.c.mdtrt_id == mdtrt_id, fee_detail.c.fixmedins_code == fixmedins_code)
        .order_by(fee_detail.c.feedetl_sn)
    )
    return [dict(r) for r in conn.execute(query).mappings()]
