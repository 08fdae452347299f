"""Sign-in in two steps, so that the slow password check stays off the writer.

`accounts.service.login` checks the Argon2 hash and inserts the session in one transaction.
Run through the group-commit writer (SQLite), that holds every other write for the length of
an Argon2 verification (~1 s on the 2-core reference machine): each console sign-in would
stall settlements. Here the hash is checked on a read connection in a worker thread
(`verify_password`), and only the cheap insert goes through the writer (`open_session`).

The session row is the one `accounts.service` reads back (`authenticate`, `logout`): the
sha256 hex of a random URL-safe token. To move into `yibao.accounts` when its owner adds a
split API (verify / open session); the round trip is covered by tests/api/console.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update

from yibao.accounts.service import SESSION_TTL, User
from yibao.errors import Unauthorized
from yibao.kit.clock import local_naive_now
from yibao.storage.tables import agency_user, auth_session

_hasher = PasswordHasher()
_FAILURE = "用户名或密码错误 (wrong username or password)"


def verify_password(conn: Connection, username: str, password: str) -> User:
    """The active user whose password this is, or Unauthorized (slow: Argon2)."""
    row = (
        conn.execute(select(agency_user).where(agency_user.c.username == username))
        .mappings()
        .first()
    )
    if row is None or row["vali_flag"] != "1":
        _hasher.hash(password)  # the same work, so timing does not tell which usernames exist
        raise Unauthorized(_FAILURE)
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized(_FAILURE) from None
    return User(row["username"], row["display_name"], row["role"])


def open_session(conn: Connection, user: User) -> tuple[str, datetime]:
    """Insert a session for a verified user (fast); returns (token, expires_at)."""
    still_active = conn.execute(
        select(agency_user.c.username)
        .where(agency_user.c.username == user.username)
        .where(agency_user.c.vali_flag == "1")
    ).first()
    if still_active is None:
        raise Unauthorized(_FAILURE)
    now = local_naive_now()
    token = secrets.token_urlsafe(32)
    expires = now + SESSION_TTL
    conn.execute(
        insert(auth_session).values(
            token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            username=user.username,
            created_at=now,
            expires_at=expires,
        )
    )
    conn.execute(
        update(agency_user).where(agency_user.c.username == user.username).values(last_login_at=now)
    )
    return token, expires
