"""定点医药机构 SQL (`fixmedins`): fetch, list, insert, update. Fetching and listing take the
caller's `Scope`; the code's uniqueness and the chain's shape are checked platform-wide
(`AGENCY`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, or_, select, update

from yibao.enrolment.scope import Scope
from yibao.storage.tables import fixmedins, fixmedins_credential


def _within(scope: Scope) -> list[ColumnElement[bool]]:
    if scope.fixmedins_codes is None:
        return []
    return [fixmedins.c.fixmedins_code.in_(sorted(scope.fixmedins_codes))]


def get(conn: Connection, fixmedins_code: str, *, scope: Scope) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(fixmedins)
            .where(fixmedins.c.fixmedins_code == fixmedins_code)
            .where(*_within(scope))
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def children(conn: Connection, fixmedins_code: str, *, scope: Scope) -> list[str]:
    """The codes of the stores of a chain (members of a group), ordered."""
    return list(
        conn.execute(
            select(fixmedins.c.fixmedins_code)
            .where(fixmedins.c.parent_code == fixmedins_code)
            .where(*_within(scope))
            .order_by(fixmedins.c.fixmedins_code)
        ).scalars()
    )


def count_active_credentials(conn: Connection, fixmedins_code: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(fixmedins_credential)
            .where(fixmedins_credential.c.fixmedins_code == fixmedins_code)
            .where(fixmedins_credential.c.vali_flag == "1")
        ).scalar_one()
    )


def children_of(conn: Connection, codes: list[str], *, scope: Scope) -> dict[str, list[str]]:
    """The stores (members) of each of `codes` within `scope`, in one query."""
    out: dict[str, list[str]] = {code: [] for code in codes}
    if not codes:
        return out
    rows = conn.execute(
        select(fixmedins.c.parent_code, fixmedins.c.fixmedins_code)
        .where(fixmedins.c.parent_code.in_(codes))
        .where(*_within(scope))
        .order_by(fixmedins.c.fixmedins_code)
    )
    for parent, code in rows:
        out[parent].append(code)
    return out


def active_credential_counts(conn: Connection, codes: list[str]) -> dict[str, int]:
    """The number of valid credentials of each of `codes`, in one query."""
    out = dict.fromkeys(codes, 0)
    if not codes:
        return out
    rows = conn.execute(
        select(fixmedins_credential.c.fixmedins_code, func.count())
        .where(fixmedins_credential.c.fixmedins_code.in_(codes))
        .where(fixmedins_credential.c.vali_flag == "1")
        .group_by(fixmedins_credential.c.fixmedins_code)
    )
    for code, n in rows:
        out[code] = int(n)
    return out


def page(
    conn: Connection,
    *,
    scope: Scope,
    kind: str | None,
    admdvs: str | None,
    parent_code: str | None,
    q: str | None,
    vali_flag: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, page) ordered by code; `q` matches the code or the name."""
    conds = _within(scope)
    if kind:
        conds.append(fixmedins.c.kind == kind)
    if admdvs:
        conds.append(fixmedins.c.admdvs == admdvs)
    if parent_code:
        conds.append(fixmedins.c.parent_code == parent_code)
    if vali_flag:
        conds.append(fixmedins.c.vali_flag == vali_flag)
    if q:
        like = f"%{q}%"
        conds.append(
            or_(fixmedins.c.fixmedins_code.like(like), fixmedins.c.fixmedins_name.like(like))
        )
    total = conn.execute(select(func.count()).select_from(fixmedins).where(*conds)).scalar_one()
    rows = conn.execute(
        select(fixmedins)
        .where(*conds)
        .order_by(fixmedins.c.fixmedins_code)
        .limit(limit)
        .offset(offset)
    ).mappings()
    return int(total), [dict(r) for r in rows]


def parent_of(conn: Connection, fixmedins_code: str) -> str | None:
    parent: str | None = conn.execute(
        select(fixmedins.c.parent_code).where(fixmedins.c.fixmedins_code == fixmedins_code)
    ).scalar_one_or_none()
    return parent


def insert_institution(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(fixmedins).values(**values))


def update_institution(
    conn: Connection, fixmedins_code: str, changes: Mapping[str, Any], *, updated_at: datetime
) -> None:
    conn.execute(
        update(fixmedins)
        .where(fixmedins.c.fixmedins_code == fixmedins_code)
        .values(**changes, updated_at=updated_at)
    )
