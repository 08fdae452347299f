"""Console users' SQL: `agency_user` and `auth_session`. Tokens arrive here only as their
sha256 (users.service hashes them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from yibao.storage.tables import agency_user, auth_session


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
    created_at: datetime,
) -> None:
    conn.execute(
        insert(agency_user).values(
            username=username,
            password_hash=password_hash,
            display_name=display_name,
            role=role,
            vali_flag="1",
            created_at=created_at,
        )
    )


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
) -> None:
    conn.execute(
        insert(auth_session).values(
            token_sha256=token_sha256,
            username=username,
            created_at=created_at,
            expires_at=expires_at,
        )
    )


def session_user(conn: Connection, token_sha256: str) -> dict[str, Any] | None:
    """The active user of an unrevoked session (username, display_name, role, expires_at)."""
    row = (
        conn.execute(
            select(
                agency_user.c.username,
                agency_user.c.display_name,
                agency_user.c.role,
                auth_session.c.expires_at,
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
