"""参保 SQL (`psn_insu`): a person's insurance, its status and its personal-account balance."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from yibao.storage.tables import psn_insu


def of_person(conn: Connection, psn_no: str) -> list[dict[str, Any]]:
    """Every insurance of the person, ordered by insutype."""
    return [
        dict(r)
        for r in conn.execute(
            select(psn_insu).where(psn_insu.c.psn_no == psn_no).order_by(psn_insu.c.insutype)
        ).mappings()
    ]


def get(conn: Connection, psn_no: str, insutype: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(psn_insu)
            .where(psn_insu.c.psn_no == psn_no)
            .where(psn_insu.c.insutype == insutype)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def exists(conn: Connection, psn_no: str, insutype: str) -> bool:
    return (
        conn.execute(
            select(psn_insu.c.insutype)
            .where(psn_insu.c.psn_no == psn_no)
            .where(psn_insu.c.insutype == insutype)
        ).first()
        is not None
    )


def insert_insurance(
    conn: Connection, psn_no: str, values: Mapping[str, Any], *, at: datetime
) -> None:
    """A new insurance with an empty personal account."""
    conn.execute(
        insert(psn_insu).values(psn_no=psn_no, balc=0, created_at=at, updated_at=at, **values)
    )


def update_insurance(
    conn: Connection,
    psn_no: str,
    insutype: str,
    changes: Mapping[str, Any],
    *,
    updated_at: datetime,
) -> None:
    conn.execute(
        update(psn_insu)
        .where(psn_insu.c.psn_no == psn_no)
        .where(psn_insu.c.insutype == insutype)
        .values(**changes, updated_at=updated_at)
    )


def set_status(
    conn: Connection,
    psn_no: str,
    insutype: str,
    *,
    psn_insu_stas: str,
    paus_insu_date: date | None,
    updated_at: datetime,
) -> None:
    update_insurance(
        conn,
        psn_no,
        insutype,
        {"psn_insu_stas": psn_insu_stas, "paus_insu_date": paus_insu_date},
        updated_at=updated_at,
    )
