"""Console sign-in and sign-out, and who a token belongs to.

Successful and failed sign-ins are audited (`auth.login`, `auth.login_failed`). After 5
failures for one account or 20 from one address within 15 minutes, sign-ins are refused for
5 minutes without checking the password (`TooManyAttempts`, audited `auth.login_throttled`;
`users.throttle`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from yibao.enrolment import audit
from yibao.enrolment.scope import AGENCY, Scope
from yibao.errors import TooManyAttempts, Unauthorized
from yibao.obs import metrics
from yibao.runtime import Platform
from yibao.users import service as users
from yibao.users.service import User

__all__ = [
    "SESSION_TTL",
    "User",
    "authenticate",
    "login",
    "logout",
    "scope_of",
    "session_user",
]

#: how long a token (bearer or session cookie) stays valid
SESSION_TTL: timedelta = users.SESSION_TTL


def authenticate(platform: Platform, token: str) -> User:
    """The active user behind a bearer token or session cookie, or Unauthorized."""
    with platform.db.read() as conn:
        return users.authenticate(conn, token)


async def session_user(platform: Platform, token: str) -> User:
    """`authenticate` off the event loop."""
    return await run_in_threadpool(authenticate, platform, token)


async def login(
    platform: Platform, username: str, password: str, *, via: str, address: str | None
) -> tuple[str, User, datetime]:
    """(token, user, expires_at) for a right password; Unauthorized or TooManyAttempts."""
    throttle = platform.login_throttle
    wait = throttle.locked_for(username, address)
    if wait > 0:
        metrics.signin_failed("console_throttled")
        minutes = max(1, math.ceil(wait / 60))
        await _audit_refusal(
            platform,
            username,
            "auth.login_throttled",
            {"via": via, "address": address, "wait_s": round(wait)},
        )
        raise TooManyAttempts(
            f"登录失败次数过多, 请 {minutes} 分钟后再试 (too many failed sign-ins for this "
            f"account or address: try again in {minutes} min, or ask an administrator)"
        )

    def check() -> User:
        with platform.db.read() as conn:
            return users.verify_password(conn, username, password)

    def job(conn: Connection) -> tuple[str, User, datetime]:
        token, expires = users.open_session(conn, user)
        audit.record(
            conn,
            ids=platform.ids,
            actor=user.username,
            action="auth.login",
            target=user.username,
            detail={"via": via, "role": user.role},
        )
        return token, user, expires

    try:
        # The Argon2 check runs in a worker thread, off the single writer (see users.verify_password).
        user = await run_in_threadpool(check)
        opened = await platform.db.writer.run(job)
        throttle.succeeded(username)
        return opened
    except Unauthorized:
        metrics.signin_failed("console")
        throttle.failed(username, address)
        await _audit_refusal(platform, username, "auth.login_failed", {"via": via})
        raise


async def _audit_refusal(
    platform: Platform, username: str, action: str, detail: dict[str, object]
) -> None:
    """Audit a refused sign-in under the name it tried (which may not exist)."""
    name = username[:50]

    def job(conn: Connection) -> None:
        audit.record(
            conn,
            ids=platform.ids,
            actor=name or "-",
            action=action,
            target=name or None,
            detail=detail,
        )

    await platform.db.writer.run(job)


async def logout(platform: Platform, token: str, username: str, *, via: str) -> None:
    """Revoke the token and audit `auth.logout`."""

    def job(conn: Connection) -> None:
        users.logout(conn, token)
        audit.record(
            conn,
            ids=platform.ids,
            actor=username,
            action="auth.logout",
            target=username,
            detail={"via": via},
        )

    await platform.db.writer.run(job)


def scope_of(user: User) -> Scope:
    """Whose records `user` may see. Every console user belongs to the fund agency today; the
    tenancy issue gives institution and chain users their own scopes."""
    return AGENCY
