"""The cases' SQL (`storage/schema/cases.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, update

from yibao.storage.tables import (
    review_case,
    review_case_file,
    review_case_hit,
    review_case_step,
    rule_hit,
)


def insert_case(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(review_case).values(**row))


def insert_hits(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(review_case_hit), list(rows))


def hits_in_cases(conn: Connection, hit_ids: Iterable[str]) -> dict[str, str]:
    """hit_id → case_id of the hits already in a case."""
    wanted = list(hit_ids)
    if not wanted:
        return {}
    rows = conn.execute(
        select(review_case_hit.c.hit_id, review_case_hit.c.case_id).where(
            review_case_hit.c.hit_id.in_(wanted)
        )
    ).all()
    return {str(r[0]): str(r[1]) for r in rows}


def get_case(conn: Connection, case_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(select(review_case).where(review_case.c.case_id == case_id)).mappings().first()
    )
    return None if row is None else dict(row)


def case_hits(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(review_case_hit)
        .where(review_case_hit.c.case_id == case_id)
        .order_by(review_case_hit.c.detected_at, review_case_hit.c.hit_id)
    ).mappings()
    return [dict(r) for r in rows]


def case_steps(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(review_case_step)
        .where(review_case_step.c.case_id == case_id)
        .order_by(review_case_step.c.step_no)
    ).mappings()
    return [dict(r) for r in rows]


def case_files(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            review_case_file.c.file_id,
            review_case_file.c.filename,
            review_case_file.c.content_type,
            review_case_file.c.size,
            review_case_file.c.sha256,
            review_case_file.c.uploaded_by,
            review_case_file.c.uploaded_at,
        )
        .where(review_case_file.c.case_id == case_id)
        .order_by(review_case_file.c.uploaded_at)
    ).mappings()
    return [dict(r) for r in rows]


def get_file(conn: Connection, case_id: str, file_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(review_case_file).where(
                review_case_file.c.case_id == case_id, review_case_file.c.file_id == file_id
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def insert_file(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(review_case_file).values(**row))


def next_step_no(conn: Connection, case_id: str) -> int:
    last = conn.execute(
        select(func.max(review_case_step.c.step_no)).where(review_case_step.c.case_id == case_id)
    ).scalar_one_or_none()
    return int(last or 0) + 1


def insert_step(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(review_case_step).values(**row))


def update_case(conn: Connection, case_id: str, version: int, values: dict[str, Any]) -> bool:
    """Apply `values` if the case is still at `version` (bumping it); False when someone else
    moved it first."""
    result = conn.execute(
        update(review_case)
        .where(review_case.c.case_id == case_id, review_case.c.version == version)
        .values(**values, version=version + 1)
    )
    return bool(result.rowcount)


def list_cases(
    conn: Connection,
    *,
    fixmedins_codes: frozenset[str] | None,
    states: Iterable[str] | None,
    fixmedins_code: str | None,
    category: str | None,
    assignee: str | None,
    overdue_at: datetime | None,
    limit: int,
    offset: int,
) -> tuple[int, list[dict[str, Any]]]:
    where: list[ColumnElement[bool]] = []
    if fixmedins_codes is not None:
        where.append(review_case.c.fixmedins_code.in_(sorted(fixmedins_codes)))
    if states is not None:
        where.append(review_case.c.state.in_(list(states)))
    if fixmedins_code:
        where.append(review_case.c.fixmedins_code == fixmedins_code)
    if category:
        where.append(
            or_(
                review_case.c.categories == category,
                review_case.c.categories.like(f"{category},%"),
                review_case.c.categories.like(f"%,{category}"),
                review_case.c.categories.like(f"%,{category},%"),
            )
        )
    if assignee:
        where.append(review_case.c.assignee == assignee)
    if overdue_at is not None:
        where.append(
            and_(
                review_case.c.deadline < overdue_at,
                review_case.c.state != "decided",
            )
        )
    total = conn.execute(select(func.count()).select_from(review_case).where(*where)).scalar_one()
    rows = conn.execute(
        select(review_case)
        .where(*where)
        .order_by(review_case.c.deadline.is_(None), review_case.c.deadline, review_case.c.case_id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    return int(total), [dict(r) for r in rows]


def rule_hits(conn: Connection, hit_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The `rule_hit` rows (real-time and post-hoc) a case is opened from."""
    if not hit_ids:
        return []
    rows = conn.execute(select(rule_hit).where(rule_hit.c.hit_id.in_(list(hit_ids)))).mappings()
    return [dict(r) for r in rows]


def open_hits(
    conn: Connection,
    *,
    fixmedins_codes: frozenset[str] | None,
    fixmedins_code: str | None,
    category: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[int, list[dict[str, Any]]]:
    """Hits not yet in a case, newest first: what a reviewer opens cases from."""
    where: list[ColumnElement[bool]] = [rule_hit.c.hit_id.not_in(select(review_case_hit.c.hit_id))]
    if fixmedins_codes is not None:
        where.append(rule_hit.c.fixmedins_code.in_(sorted(fixmedins_codes)))
    if fixmedins_code:
        where.append(rule_hit.c.fixmedins_code == fixmedins_code)
    if category:
        where.append(rule_hit.c.category == category)
    if since is not None:
        where.append(rule_hit.c.detected_at >= since)
    total = conn.execute(select(func.count()).select_from(rule_hit).where(*where)).scalar_one()
    rows = conn.execute(
        select(rule_hit)
        .where(*where)
        .order_by(rule_hit.c.detected_at.desc(), rule_hit.c.hit_id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    return int(total), [dict(r) for r in rows]


def pending_decisions(conn: Connection, fixmedins_code: str) -> list[dict[str, Any]]:
    """Decided recover/deduct cases of the institution not yet deducted in a clearing."""
    rows = conn.execute(
        select(review_case)
        .where(
            review_case.c.fixmedins_code == fixmedins_code,
            review_case.c.state == "decided",
            review_case.c.decision.in_(("recover", "deduct")),
            review_case.c.clr_appy_evt_id.is_(None),
        )
        .order_by(review_case.c.decided_at, review_case.c.case_id)
    ).mappings()
    return [dict(r) for r in rows]


def mark_deducted(conn: Connection, case_id: str, clr_appy_evt_id: str) -> None:
    conn.execute(
        update(review_case)
        .where(review_case.c.case_id == case_id, review_case.c.clr_appy_evt_id.is_(None))
        .values(clr_appy_evt_id=clr_appy_evt_id)
    )
