"""Agency users and their sessions.

Passwords are hashed with Argon2id (argon2-cffi defaults). A sign-in is two steps —
`verify_password` (slow, on a read connection) then `open_session` (one insert, in the
writer) — and issues a random token; only its sha256 is stored, so a leaked table does not
leak sessions. The same token serves as the API's bearer token and the pages' session cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from yibao.errors import Conflict, InvalidInput, Unauthorized
from yibao.kit.clock import local_naive_now
from yibao.users import repo

ROLES = ("admin", "operator", "auditor", "analyst")
SESSION_TTL = timedelta(hours=12)

_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    conn: Connection, *, username: str, password: str, role: str, display_name: str
) -> User:
    if role not in ROLES:
        raise InvalidInput(f"role: 角色不存在 '{role}' (allowed: {', '.join(ROLES)})")
    if len(password) < 8:
        raise InvalidInput("password: 密码至少 8 位 (at least 8 characters)")
    if not username or len(username) > 50:
        raise InvalidInput("username: 用户名为 1–50 个字符 (1–50 characters)")
    if repo.user_exists(conn, username):
        raise Conflict(f"username: 用户已存在 '{username}' (already exists)")
    repo.insert_user(
        conn,
        username=username,
        password_hash=_hasher.hash(password),
        display_name=display_name,
        role=role,
        created_at=local_naive_now(),
    )
    return User(username, display_name, role)


def user_exists(conn: Connection, username: str) -> bool:
    return repo.user_exists(conn, username)


def set_password(conn: Connection, username: str, password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("password: 密码至少 8 位 (at least 8 characters)")
    repo.set_password_hash(conn, username, _hasher.hash(password))


def verify_password(conn: Connection, username: str, password: str) -> User:
    """The active user whose password this is, or Unauthorized.

    Slow on purpose (Argon2, ~1 s on the 2-core reference machine): run it on a read
    connection, never inside the single writer, or every settlement waits behind a sign-in.
    """
    row = repo.get_user(conn, username)
    failure = Unauthorized("用户名或密码错误 (wrong username or password)")
    if row is None or row["vali_flag"] != "1":
        # Hash anyway so that timing does not tell which usernames exist.
        _hasher.hash(password)
        raise failure
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        raise failure from None
    return User(row["username"], row["display_name"], row["role"])


def open_session(conn: Connection, user: User) -> tuple[str, datetime]:
    """Open a session for a verified user (fast: one insert); returns (token, expires_at)."""
    if not repo.is_active(conn, user.username):
        raise Unauthorized("用户名或密码错误 (wrong username or password)")
    now = local_naive_now()
    token = secrets.token_urlsafe(32)
    expires = now + SESSION_TTL
    repo.insert_session(
        conn,
        token_sha256=_sha256(token),
        username=user.username,
        created_at=now,
        expires_at=expires,
    )
    repo.mark_login(conn, user.username, now)
    return token, expires


def authenticate(conn: Connection, token: str) -> User:
    """The user behind a bearer token or session cookie, or Unauthorized."""
    if not token:
        raise Unauthorized("未登录 (sign in first: POST /api/v1/auth/login)")
    row = repo.session_user(conn, _sha256(token))
    if row is None or row["expires_at"] < local_naive_now():
        raise Unauthorized("登录已失效 (session expired or unknown; sign in again)")
    return User(row["username"], row["display_name"], row["role"])


def logout(conn: Connection, token: str) -> None:
    repo.revoke_session(conn, _sha256(token), local_naive_now())
