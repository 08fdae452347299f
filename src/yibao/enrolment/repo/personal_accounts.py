"""个人账户 SQL: the balance kept on `psn_insu.balc`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, Row, select, update

from yibao.storage.tables import psn_insu


def balance_and_status(
    conn: Connection, psn_no: str, insutype: str
) -> Row[tuple[Decimal, str]] | None:
    """(balc, psn_insu_stas) of the person's insurance, or None."""
    return conn.execute(
        select(psn_insu.c.balc, psn_insu.c.psn_insu_stas)
        .where(psn_insu.c.psn_no == psn_no)
        .where(psn_insu.c.insutype == insutype)
    ).first()


def add_to_balance(
    conn: Connection, psn_no: str, insutype: str, amount: Decimal, *, updated_at: datetime
) -> Decimal:
    """Add `amount` and return the new balance.

    The update is relative (balc = balc + amount) so that a settlement deducting from the
    account concurrently on the MySQL protocol is not lost.
    """
    conn.execute(
        update(psn_insu)
        .where(psn_insu.c.psn_no == psn_no)
        .where(psn_insu.c.insutype == insutype)
        .values(balc=psn_insu.c.balc + amount, updated_at=updated_at)
    )
    after: Decimal = conn.execute(
        select(psn_insu.c.balc)
        .where(psn_insu.c.psn_no == psn_no)
        .where(psn_insu.c.insutype == insutype)
    ).scalar_one()
    return after
