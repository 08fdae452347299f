"""The 进销存 ledger's SQL (`inv_record`): every statement takes the store (`fixmedins_code`)
as its scope, and reads only valid rows (`vali_flag` "1": 3507 flags, never deletes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from yibao.storage.tables import inv_record, setl
from yibao.storage.types import Qty

STOCKTAKE = "stocktake"


def insert_records(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    batch = [dict(r) for r in rows]
    if batch:
        conn.execute(insert(inv_record), batch)


def settlement_of(conn: Connection, *, fixmedins_code: str, setl_id: str) -> tuple[str, str] | None:
    """(mdtrt_id, psn_no) of the store's own settlement `setl_id`, or None."""
    row = conn.execute(
        select(setl.c.mdtrt_id, setl.c.psn_no).where(
            setl.c.setl_id == setl_id, setl.c.fixmedins_code == fixmedins_code
        )
    ).first()
    return None if row is None else (row.mdtrt_id, row.psn_no)


def flag_deleted(
    conn: Connection,
    *,
    fixmedins_code: str,
    inv_data_type: str,
    fixmedins_bchno: str,
    msgid: str,
    now: datetime,
) -> int:
    """Flag the store's valid rows of `inv_data_type` with `fixmedins_bchno` as removed;
    the number flagged."""
    result = conn.execute(
        update(inv_record)
        .where(
            inv_record.c.fixmedins_code == fixmedins_code,
            inv_record.c.inv_data_type == inv_data_type,
            inv_record.c.fixmedins_bchno == fixmedins_bchno,
            inv_record.c.vali_flag == "1",
        )
        .values(vali_flag="0", del_msgid=msgid, del_time=now, updated_at=now)
    )
    return int(result.rowcount or 0)


def latest_stocktake(
    conn: Connection, *, fixmedins_code: str, med_list_codg: str, on_or_before: date
) -> tuple[date, Decimal] | None:
    """The store's last valid stocktake of the item dated `on_or_before` or earlier: its
    date and the count summed over the batches counted that day."""
    taken = (
        select(func.max(inv_record.c.occurred_at))
        .where(
            inv_record.c.fixmedins_code == fixmedins_code,
            inv_record.c.med_list_codg == med_list_codg,
            inv_record.c.movement == STOCKTAKE,
            inv_record.c.vali_flag == "1",
            inv_record.c.occurred_at <= datetime.combine(on_or_before, datetime.min.time()),
        )
        .scalar_subquery()
    )
    row = conn.execute(
        select(
            inv_record.c.occurred_at,
            func.sum(inv_record.c.cnt, type_=Qty()).label("cnt"),
        )
        .where(
            inv_record.c.fixmedins_code == fixmedins_code,
            inv_record.c.med_list_codg == med_list_codg,
            inv_record.c.movement == STOCKTAKE,
            inv_record.c.vali_flag == "1",
            inv_record.c.occurred_at == taken,
        )
        .group_by(inv_record.c.occurred_at)
    ).first()
    if row is None:
        return None
    return row.occurred_at.date(), row.cnt


def movement_sums(
    conn: Connection,
    *,
    fixmedins_code: str,
    med_list_codg: str,
    since: datetime | None,
    until: datetime,
) -> dict[str, Decimal]:
    """The store's valid quantities of the item by movement (purchase, sale, …; stocktakes
    left out), for rows at `since` (inclusive; None: from the first) through `until`
    (inclusive)."""
    conds = [
        inv_record.c.fixmedins_code == fixmedins_code,
        inv_record.c.med_list_codg == med_list_codg,
        inv_record.c.movement != STOCKTAKE,
        inv_record.c.vali_flag == "1",
        inv_record.c.occurred_at <= until,
    ]
    if since is not None:
        conds.append(inv_record.c.occurred_at >= since)
    rows = conn.execute(
        select(inv_record.c.movement, func.sum(inv_record.c.cnt, type_=Qty()).label("cnt"))
        .where(*conds)
        .group_by(inv_record.c.movement)
    ).all()
    return {r.movement: r.cnt for r in rows}


def records(
    conn: Connection, *, fixmedins_code: str, med_list_codg: str | None = None
) -> list[dict[str, Any]]:
    """The store's valid rows (of one item when given), oldest first."""
    conds = [inv_record.c.fixmedins_code == fixmedins_code, inv_record.c.vali_flag == "1"]
    if med_list_codg is not None:
        conds.append(inv_record.c.med_list_codg == med_list_codg)
    rows = conn.execute(
        select(inv_record).where(*conds).order_by(inv_record.c.occurred_at, inv_record.c.rec_id)
    ).mappings()
    return [dict(r) for r in rows]
