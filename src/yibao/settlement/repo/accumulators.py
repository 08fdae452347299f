"""Per-person annual accumulators (`psn_accum`): the year's stored totals and the upsert of a
settlement's delta."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, bindparam, select, update

from yibao.settlement.repo.rows import Row
from yibao.storage.prepared import Prepared, PreparedInsert
from yibao.storage.tables import psn_accum

_P_READ = Prepared(
    select(psn_accum.c.acc_key, psn_accum.c.amount).where(
        psn_accum.c.psn_no == bindparam("psn_no"), psn_accum.c.year == bindparam("year")
    )
)
_P_ADD = Prepared(
    update(psn_accum)
    .where(
        psn_accum.c.psn_no == bindparam("b_psn_no"),
        psn_accum.c.year == bindparam("b_year"),
        psn_accum.c.acc_key == bindparam("b_acc_key"),
    )
    .values(amount=psn_accum.c.amount + bindparam("b_delta", type_=psn_accum.c.amount.type))
    .values(updated_at=bindparam("b_at"))
)
_P_INSERT = PreparedInsert(psn_accum)


def accumulators_of_year(conn: Connection, psn_no: str, year: int) -> list[Row]:
    """acc_key and amount of every stored total of the person's year."""
    return _P_READ.all(conn, {"psn_no": psn_no, "year": year})  # type: ignore[return-value]


def add_to_accumulator(
    conn: Connection, psn_no: str, year: int, acc_key: str, delta: Decimal, at: datetime
) -> None:
    """Add `delta` to a stored total, inserting it when the year has none yet. The increment
    is bound through the column's Money type, i.e. added as integer fen."""
    updated = _P_ADD.execute(
        conn,
        {"b_psn_no": psn_no, "b_year": year, "b_acc_key": acc_key, "b_delta": delta, "b_at": at},
    )
    if not updated:
        _P_INSERT.execute(
            conn,
            {"psn_no": psn_no, "year": year, "acc_key": acc_key, "amount": delta, "updated_at": at},
        )
