"""Console users' SQL: `agency_user` and `auth_session` (and, to check a tenant, `fixmedins`).
Tokens arrive here only as their sha256 (users.service hashes them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, or_, select, update

from yibao.storage.tables import agency_user, auth_session, fixmedins


def get_user(conn: Connection, username: str) -> dict[str, Any] | None:
    row = (
        conn.execute(select(agency_user).where(agency_user.c.username == username))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def user_exists(conn: Connection, username: str) -> bool:
    return (
        conn.execute(
            select(agency_user.c.username).where(agency_user.c.username == username)
        ).first()
        is not None
    )


def is_active(conn: Connection, username: str) -> bool:
    return (
        conn.execute(
            select(agency_user.c.username)
            .where(agency_user.c.username == username)
            .where(agency_user.c.vali_flag == "1")
        ).first()
        is not None
    )


def insert_user(
    conn: Connection,
    *,
    username: str,
    password_hash: str,
    display_name: str,
    role: str,
    tenant_code: str | None,
    department: str | None,
    created_at: datetime,
) -> None:
    conn.execute(
        insert(agency_user).values(
            username=username,
            password_hash=password_hash,
            display_name=display_name,
            role=role,
            tenant_code=tenant_code,
            department=department,
            vali_flag="1",
            created_at=created_at,
        )
    )


def update_user(conn: Connection, username: str, values: dict[str, Any]) -> None:
    conn.execute(update(agency_user).where(agency_user.c.username == username).values(**values))


def rename_roles(conn: Connection, mapping: dict[str, str]) -> int:
    """Give users of an old role name the new one (init's data migration); rows changed."""
    changed = 0
    for old, new in mapping.items():
        changed += conn.execute(
            update(agency_user).where(agency_user.c.role == old).values(role=new)
        ).rowcount
    return changed


def _in_tenants(codes: frozenset[str] | None) -> list[ColumnElement[bool]]:
    if codes is None:
        return []
    return [agency_user.c.tenant_code.in_(sorted(codes))]


def page_users(
    conn: Connection,
    *,
    tenant_codes: frozenset[str] | None,
    role: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, page) of users (without password hashes) of the given tenants (None: all)."""
    conds = _in_tenants(tenant_codes)
    if role:
        conds.append(agency_user.c.role == role)
    total = conn.execute(select(func.count()).select_from(agency_user).where(*conds)).scalar_one()
    cols = [c for c in agency_user.c if c.name != "password_hash"]
    rows = conn.execute(
        select(*cols).where(*conds).order_by(agency_user.c.username).limit(limit).offset(offset)
    ).mappings()
    return int(total), [dict(r) for r in rows]


def institution(conn: Connection, code: str) -> dict[str, Any] | None:
    """`fixmedins_code, kind, parent_code, vali_flag` of an institution, or None."""
    row = (
        conn.execute(
            select(
                fixmedins.c.fixmedins_code,
                fixmedins.c.kind,
                fixmedins.c.parent_code,
                fixmedins.c.vali_flag,
            ).where(fixmedins.c.fixmedins_code == code)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def chain_codes(conn: Connection, code: str) -> frozenset[str]:
    """The chain's own code and its stores' codes."""
    rows = conn.execute(
        select(fixmedins.c.fixmedins_code).where(
            or_(fixmedins.c.fixmedins_code == code, fixmedins.c.parent_code == code)
        )
    ).scalars()
    return frozenset(rows)


def set_password_hash(conn: Connection, username: str, password_hash: str) -> None:
    conn.execute(
        update(agency_user)
        .where(agency_user.c.username == username)
        .values(password_hash=password_hash)
    )


def mark_login(conn: Connection, username: str, at: datetime) -> None:
    conn.execute(
        update(agency_user).where(agency_user.c.username == username).values(last_login_at=at)
    )


def insert_session(
    conn: Connection,
    *,
    token_sha256: str,
    username: str,
    created_at: datetime,
    expires_at: datetime,
    csrf_sha256: str,
) -> None:
    conn.execute(
        insert(auth_session).values(
            token_sha256=token_sha256,
            username=username,
            created_at=created_at,
            expires_at=expires_at,
            last_seen_at=created_at,
            csrf_sha256=csrf_sha256,
        )
    )


def touch_session(conn: Connection, token_sha256: str, at: datetime) -> None:
    conn.execute(
        update(auth_session)
        .where(auth_session.c.token_sha256 == token_sha256)
        .values(last_seen_at=at)
    )


def session_user(conn: Connection, token_sha256: str) -> dict[str, Any] | None:
    """The active user of an unrevoked session (username, display_name, role, tenant_code,
    department, expires_at, last_seen_at, csrf_sha256)."""
    row = (
        conn.execute(
            select(
                agency_user.c.username,
                agency_user.c.display_name,
                agency_user.c.role,
                agency_user.c.tenant_code,
                agency_user.c.department,
                auth_session.c.expires_at,
                auth_session.c.last_seen_at,
                auth_session.c.csrf_sha256,
            )
            .join(agency_user, agency_user.c.username == auth_session.c.username)
            .where(auth_session.c.token_sha256 == token_sha256)
            .where(auth_session.c.revoked_at.is_(None))
            .where(agency_user.c.vali_flag == "1")
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def revoke_session(conn: Connection, token_sha256: str, at: datetime) -> None:
    conn.execute(
        update(auth_session)
        .where(auth_session.c.token_sha256 == token_sha256)
        .values(revoked_at=at)
    )


def revoke_user_sessions(conn: Connection, username: str, at: datetime) -> None:
    """End every open session of a user (a role, tenant or password change; a disabling)."""
    conn.execute(
        update(auth_session)
        .where(auth_session.c.username == username)
        .where(auth_session.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
