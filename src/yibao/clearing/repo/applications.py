"""清算申请 rows (`clr_appy`), their events (`clr_event`) and deductions (`clr_deduction`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from yibao.errors import Conflict
from yibao.storage.tables import clr_appy, clr_deduction, clr_event


def live_key(fixmedins_code: str, clr_optins: str, setlym: str, clr_type: str) -> str:
    return f"{fixmedins_code}|{clr_optins}|{setlym}|{clr_type}"


def insert_application(conn: Connection, row: Mapping[str, Any]) -> None:
    try:
        with conn.begin_nested():
            conn.execute(insert(clr_appy).values(**row))
    except IntegrityError as exc:
        raise Conflict(
            f"data.setlym: {row['setlym']} 清算类别 {row['clr_type']} 已有清算申请, 同一月份不能"
            "重复清算 (this month and clr_type already has a live application: withdraw it "
            "with 3204 first, or it was cleared)"
        ) from exc


def live_application(
    conn: Connection, fixmedins_code: str, clr_optins: str, setlym: str, clr_type: str
) -> Mapping[str, Any] | None:
    key = live_key(fixmedins_code, clr_optins, setlym, clr_type)
    row = conn.execute(select(clr_appy).where(clr_appy.c.live_key == key)).mappings().first()
    return None if row is None else dict(row)


def application(
    conn: Connection, clr_appy_evt_id: str, *, lock: bool = False
) -> Mapping[str, Any] | None:
    query = select(clr_appy).where(clr_appy.c.clr_appy_evt_id == clr_appy_evt_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return None if row is None else dict(row)


def set_state(
    conn: Connection, clr_appy_evt_id: str, *, current: str, stas: str, at: datetime, **values: Any
) -> None:
    """Move an application from `current` to `stas` (a row not in `current` any more is a
    concurrent change: Conflict). A withdrawn or rejected application frees its month."""
    if stas not in ("submitted", "accepted", "approved"):
        values["live_key"] = None
    done = conn.execute(
        update(clr_appy)
        .where(clr_appy.c.clr_appy_evt_id == clr_appy_evt_id, clr_appy.c.stas == current)
        .values(stas=stas, updated_at=at, **values)
    ).rowcount
    if done != 1:
        raise Conflict("清算申请已被同时修改, 请重试 (the application changed meanwhile: retry)")


def list_applications(
    conn: Connection,
    *,
    fixmedins_code: str | None = None,
    setlym: str | None = None,
    stas: str | None = None,
    clr_type: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    conds = []
    if fixmedins_code:
        conds.append(clr_appy.c.fixmedins_code == fixmedins_code)
    if setlym:
        conds.append(clr_appy.c.setlym == setlym)
    if stas:
        conds.append(clr_appy.c.stas == stas)
    if clr_type:
        conds.append(clr_appy.c.clr_type == clr_type)
    total = conn.execute(select(func.count()).select_from(clr_appy).where(*conds)).scalar_one()
    rows = conn.execute(
        select(clr_appy)
        .where(*conds)
        .order_by(clr_appy.c.setlym.desc(), clr_appy.c.fixmedins_code, clr_appy.c.created_at)
        .limit(limit)
        .offset(offset)
    ).mappings()
    return int(total), [dict(r) for r in rows]


def add_event(conn: Connection, row: Mapping[str, Any]) -> None:
    """Append a step; `seq` is the next number of the application's history (the caller holds
    the application's row lock, and the unique index refuses a concurrent duplicate)."""
    last = conn.execute(
        select(func.max(clr_event.c.seq)).where(
            clr_event.c.clr_appy_evt_id == row["clr_appy_evt_id"]
        )
    ).scalar()
    conn.execute(insert(clr_event).values(**row, seq=int(last or 0) + 1))


def events(conn: Connection, clr_appy_evt_id: str) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            select(clr_event)
            .where(clr_event.c.clr_appy_evt_id == clr_appy_evt_id)
            .order_by(clr_event.c.seq)
        ).mappings()
    ]


def add_deduction(conn: Connection, row: Mapping[str, Any]) -> None:
    conn.execute(insert(clr_deduction).values(**row))


def deductions(conn: Connection, clr_appy_evt_id: str) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            select(clr_deduction)
            .where(clr_deduction.c.clr_appy_evt_id == clr_appy_evt_id)
            .order_by(clr_deduction.c.created_at, clr_deduction.c.deduction_id)
        ).mappings()
    ]


def open_applications(
    conn: Connection, *, fixmedins_code: str, clr_type: str | None = None
) -> list[dict[str, Any]]:
    """The institution's applications that still take deductions (submitted or accepted),
    oldest month first."""
    conds = [
        clr_appy.c.fixmedins_code == fixmedins_code,
        clr_appy.c.stas.in_(("submitted", "accepted")),
    ]
    if clr_type:
        conds.append(clr_appy.c.clr_type == clr_type)
    return [
        dict(r)
        for r in conn.execute(
            select(clr_appy).where(*conds).order_by(clr_appy.c.setlym, clr_appy.c.clr_type)
        ).mappings()
    ]
