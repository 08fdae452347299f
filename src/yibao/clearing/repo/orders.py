"""拨付单 rows (`clr_order`) and the monthly figures of the dashboard's clearing view."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update

from yibao.errors import Conflict
from yibao.storage.tables import clr_appy, clr_order
from yibao.storage.types import Money


def insert_order(conn: Connection, row: Mapping[str, Any]) -> None:
    conn.execute(insert(clr_order).values(**row))


def order(conn: Connection, clr_order_id: str, *, lock: bool = False) -> Mapping[str, Any] | None:
    query = select(clr_order).where(clr_order.c.clr_order_id == clr_order_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return None if row is None else dict(row)


def orders_of(conn: Connection, clr_appy_evt_id: str) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            select(clr_order)
            .where(clr_order.c.clr_appy_evt_id == clr_appy_evt_id)
            .order_by(clr_order.c.fund_pay_type)
        ).mappings()
    ]


def update_order(
    conn: Connection, clr_order_id: str, *, where: Mapping[str, str], at: datetime, **values: Any
) -> None:
    conds = [clr_order.c.clr_order_id == clr_order_id]
    conds += [clr_order.c[name] == value for name, value in where.items()]
    done = conn.execute(update(clr_order).where(*conds).values(updated_at=at, **values)).rowcount
    if done != 1:
        raise Conflict("拨付单已被同时修改, 请重试 (the order changed meanwhile: retry)")


def list_orders(
    conn: Connection,
    *,
    fixmedins_code: str | None = None,
    setlym: str | None = None,
    stas: str | None = None,
    fund_pay_type: str | None = None,
    deposit_stas: str | None = None,
    year: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    conds = []
    if fixmedins_code:
        conds.append(clr_order.c.fixmedins_code == fixmedins_code)
    if setlym:
        conds.append(clr_order.c.setlym == setlym)
    if stas:
        conds.append(clr_order.c.stas == stas)
    if fund_pay_type:
        conds.append(clr_order.c.fund_pay_type == fund_pay_type)
    if deposit_stas:
        conds.append(clr_order.c.deposit_stas == deposit_stas)
    if year is not None:
        conds += [clr_order.c.setlym >= f"{year:04d}01", clr_order.c.setlym <= f"{year:04d}12"]
    total = conn.execute(select(func.count()).select_from(clr_order).where(*conds)).scalar_one()
    rows = conn.execute(
        select(clr_order)
        .where(*conds)
        .order_by(
            clr_order.c.setlym.desc(),
            clr_order.c.fixmedins_code,
            clr_order.c.clr_type,
            clr_order.c.fund_pay_type,
        )
        .limit(limit)
        .offset(offset)
    ).mappings()
    return int(total), [dict(r) for r in rows]


def _sum(expr: Any, label: str) -> Any:
    return func.coalesce(func.sum(expr), 0, type_=Money()).label(label)


def monthly(conn: Connection, *, since: str, until: str) -> list[dict[str, Any]]:
    """Per month `setlym` in [since, until]: claimed (live applications' fund_appy_sum +
    acct_pay), approved (orders' setl + adjust), deducted, withheld, paid (paid orders'
    payable_amt) and due (issued orders' payable_amt)."""
    claimed = {
        r.setlym: r.claimed
        for r in conn.execute(
            select(
                clr_appy.c.setlym, _sum(clr_appy.c.fund_appy_sum + clr_appy.c.acct_pay, "claimed")
            )
            .where(
                clr_appy.c.setlym >= since,
                clr_appy.c.setlym <= until,
                clr_appy.c.stas.in_(("submitted", "accepted", "approved")),
            )
            .group_by(clr_appy.c.setlym)
        )
    }
    paid = case((clr_order.c.stas == "paid", clr_order.c.payable_amt), else_=0)
    due = case((clr_order.c.stas == "issued", clr_order.c.payable_amt), else_=0)
    ordered = {
        r.setlym: r
        for r in conn.execute(
            select(
                clr_order.c.setlym,
                _sum(clr_order.c.setl_amt + clr_order.c.adjust_amt, "approved"),
                _sum(clr_order.c.deduct_amt, "deducted"),
                _sum(clr_order.c.deposit_amt, "withheld"),
                _sum(paid, "paid"),
                _sum(due, "due"),
            )
            .where(clr_order.c.setlym >= since, clr_order.c.setlym <= until)
            .group_by(clr_order.c.setlym)
        )
    }
    out = []
    for month in sorted(set(claimed) | set(ordered)):
        o = ordered.get(month)
        out.append(
            {
                "setlym": month,
                "claimed": claimed.get(month, 0),
                "approved": o.approved if o else 0,
                "deducted": o.deducted if o else 0,
                "withheld": o.withheld if o else 0,
                "paid": o.paid if o else 0,
                "due": o.due if o else 0,
            }
        )
    return out
