"""救助身份 SQL (`psn_idet`): a person's assistance identities (低保, 特困 …)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from yibao.storage.tables import psn_idet


def of_person(conn: Connection, psn_no: str) -> list[dict[str, Any]]:
    """Every identity of the person, ordered by begntime and type."""
    return [
        dict(r)
        for r in conn.execute(
            select(psn_idet)
            .where(psn_idet.c.psn_no == psn_no)
            .order_by(psn_idet.c.begntime, psn_idet.c.psn_idet_type)
        ).mappings()
    ]


def exists(conn: Connection, psn_no: str, psn_idet_type: str, begntime: datetime) -> bool:
    return (
        conn.execute(
            select(psn_idet.c.psn_no)
            .where(psn_idet.c.psn_no == psn_no)
            .where(psn_idet.c.psn_idet_type == psn_idet_type)
            .where(psn_idet.c.begntime == begntime)
        ).first()
        is not None
    )


def held_at(conn: Connection, psn_no: str, moment: datetime) -> bool:
    """Whether the person holds any assistance identity at `moment`."""
    return (
        conn.execute(
            select(psn_idet.c.psn_no)
            .where(psn_idet.c.psn_no == psn_no)
            .where(psn_idet.c.begntime <= moment)
            .where(or_(psn_idet.c.endtime.is_(None), psn_idet.c.endtime > moment))
            .limit(1)
        ).first()
        is not None
    )


def insert_identity(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(psn_idet).values(**values))
