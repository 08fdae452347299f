"""Self-pay patients' SQL (4261–4263): an institution's uploaded visits, their diagnoses and
fee details, and the last reconciliation of each. Every read and write is scoped by the
calling institution's `fixmedins_code`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from yibao.kit.money import ZERO
from yibao.storage.tables import selfpay_diag, selfpay_fee, selfpay_mdtrt
from yibao.storage.types import Money


def fetch_visit(
    conn: Connection, *, fixmedins_code: str, mdtrt_id: str
) -> Mapping[str, Any] | None:
    row = (
        conn.execute(
            select(selfpay_mdtrt).where(
                selfpay_mdtrt.c.fixmedins_code == fixmedins_code,
                selfpay_mdtrt.c.mdtrt_id == mdtrt_id,
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def replace_visit(
    conn: Connection,
    *,
    fixmedins_code: str,
    visit: Mapping[str, Any],
    diagnoses: Sequence[Mapping[str, Any]],
    fees: Sequence[Mapping[str, Any]],
    exists: bool,
) -> None:
    """Store the visit with exactly these diagnoses and fee details (a stored visit's old
    ones are deleted first; its row is updated in place)."""
    mdtrt_id = visit["mdtrt_id"]
    for table in (selfpay_diag, selfpay_fee):
        conn.execute(
            delete(table).where(
                table.c.fixmedins_code == fixmedins_code, table.c.mdtrt_id == mdtrt_id
            )
        )
    if exists:
        conn.execute(
            update(selfpay_mdtrt)
            .where(
                selfpay_mdtrt.c.fixmedins_code == fixmedins_code,
                selfpay_mdtrt.c.mdtrt_id == mdtrt_id,
            )
            .values({k: v for k, v in visit.items() if k not in ("mdtrt_id", "created_at")})
        )
    else:
        conn.execute(insert(selfpay_mdtrt).values(fixmedins_code=fixmedins_code, **visit))
    if diagnoses:
        conn.execute(
            insert(selfpay_diag),
            [{"fixmedins_code": fixmedins_code, "mdtrt_id": mdtrt_id, **d} for d in diagnoses],
        )
    if fees:
        conn.execute(
            insert(selfpay_fee),
            [{"fixmedins_code": fixmedins_code, "mdtrt_id": mdtrt_id, **f} for f in fees],
        )


def record_statement(
    conn: Connection,
    *,
    fixmedins_code: str,
    mdtrt_id: str,
    stmt_rslt: str,
    stmt_fee_sumamt: Decimal,
    stmt_time: datetime,
    stmt_msgid: str,
) -> None:
    conn.execute(
        update(selfpay_mdtrt)
        .where(
            selfpay_mdtrt.c.fixmedins_code == fixmedins_code,
            selfpay_mdtrt.c.mdtrt_id == mdtrt_id,
        )
        .values(
            stmt_rslt=stmt_rslt,
            stmt_fee_sumamt=stmt_fee_sumamt,
            stmt_time=stmt_time,
            stmt_msgid=stmt_msgid,
            updated_at=stmt_time,
        )
    )


def mismatch_page(
    conn: Connection,
    *,
    fixmedins_code: str,
    stmt_rslt: str,
    mdtrt_id: str | None,
    certno: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[Mapping[str, Any]]]:
    """The institution's visits whose last reconciliation is `stmt_rslt`: (total, one page),
    the most recently reconciled first."""
    conds = [
        selfpay_mdtrt.c.fixmedins_code == fixmedins_code,
        selfpay_mdtrt.c.stmt_rslt == stmt_rslt,
    ]
    if mdtrt_id is not None:
        conds.append(selfpay_mdtrt.c.mdtrt_id == mdtrt_id)
    if certno is not None:
        conds.append(selfpay_mdtrt.c.certno == certno)
    total = int(
        conn.execute(select(func.count()).select_from(selfpay_mdtrt).where(*conds)).scalar_one()
    )
    rows = conn.execute(
        select(selfpay_mdtrt)
        .where(*conds)
        .order_by(selfpay_mdtrt.c.stmt_time.desc(), selfpay_mdtrt.c.mdtrt_id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    return total, [dict(r) for r in rows]


def period_totals(
    conn: Connection, *, fixmedins_code: str, begin: date, end: date
) -> tuple[int, Decimal]:
    """The count and total of the institution's uploaded visits that began from `begin`
    00:00:00 through `end` 23:59:59 (`time.max`: a day after 9999-12-31 does not exist)."""
    row = conn.execute(
        select(
            func.count().label("cnt"),
            func.coalesce(func.sum(selfpay_mdtrt.c.medfee_sumamt), 0, type_=Money()).label("total"),
        ).where(
            selfpay_mdtrt.c.fixmedins_code == fixmedins_code,
            selfpay_mdtrt.c.begntime >= datetime.combine(begin, time.min),
            selfpay_mdtrt.c.begntime <= datetime.combine(end, time.max),
        )
    ).one()
    return int(row.cnt), row.total or ZERO
