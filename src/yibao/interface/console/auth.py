"""Console sign-in and sign-out, who a token belongs to, and what the user may do and see.

Successful and failed sign-ins are audited (`auth.login`, `auth.login_failed`). Failed
sign-ins are counted in the row store per account + address and per address
(`users.throttle`, shared by every server process); a locked attempt is refused without
checking the password (`TooManyAttempts`, audited `auth.login_throttled`). Refused requests
of a signed-in user (a permission it lacks, a bad CSRF token, a foreign origin) are audited
as `auth.denied`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from yibao.enrolment import audit
from yibao.enrolment.scope import Scope
from yibao.errors import TooManyAttempts, Unauthorized
from yibao.kit.clock import local_naive_now
from yibao.obs import metrics
from yibao.runtime import Platform
from yibao.users import permissions
from yibao.users import service as users
from yibao.users.service import Session, User

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "SESSION_TTL",
    "LoginResult",
    "Session",
    "User",
    "allowed",
    "audit_denied",
    "authenticate",
    "csrf_matches",
    "login",
    "logout",
    "scope_of",
    "session_of",
    "session_user",
]

ROLES = permissions.ROLES
PERMISSIONS = permissions.PERMISSIONS
allowed = permissions.allowed
csrf_matches = users.csrf_matches

#: the default absolute session lifetime (settings: session_absolute_hours)
SESSION_TTL: timedelta = users.SESSION_TTL


@dataclass(frozen=True)
class LoginResult:
    token: str
    csrf_token: str
    user: User
    expires_at: datetime


def _ttl(platform: Platform) -> timedelta:
    return timedelta(hours=platform.settings.session_absolute_hours)


def _idle(platform: Platform) -> timedelta:
    return timedelta(minutes=platform.settings.session_idle_minutes)


def session_ttl(platform: Platform) -> timedelta:
    return _ttl(platform)


def session_of(platform: Platform, token: str) -> Session:
    """The session behind a bearer token or session cookie (its last use noted at most once a
    minute), or Unauthorized."""
    with platform.db.read() as conn:
        found, touch = users.session(conn, token, idle=_idle(platform))
    if touch:
        platform.db.writer.run_sync(lambda conn: users.touch(conn, token))
    return found


def authenticate(platform: Platform, token: str) -> User:
    """The active user behind a bearer token or session cookie, or Unauthorized."""
    return session_of(platform, token).user


async def session_user(platform: Platform, token: str) -> User:
    """`authenticate` off the event loop."""
    return await run_in_threadpool(authenticate, platform, token)


def _who(user: User) -> dict[str, Any]:
    return {"role": user.role, "tenant": user.tenant_code or "agency"}


async def login(
    platform: Platform, username: str, password: str, *, via: str, address: str | None
) -> LoginResult:
    """The session for a right password; Unauthorized or TooManyAttempts."""
    throttle = platform.login_throttle

    def locked() -> float:
        with platform.db.read() as conn:
            return throttle.wait(conn, username, address, local_naive_now())

    wait = await run_in_threadpool(locked)
    if wait > 0:
        metrics.signin_failed("console_throttled")
        minutes = max(1, math.ceil(wait / 60))
        await _audit_refusal(
            platform,
            username,
            "auth.login_throttled",
            {"via": via, "wait_s": round(wait)},
            address=address,
        )
        raise TooManyAttempts(
            f"登录失败次数过多, 请 {minutes} 分钟后再试 (too many failed sign-ins for this "
            f"account from this address: try again in {minutes} min, or ask an administrator)"
        )

    def check() -> User:
        with platform.db.read() as conn:
            return users.verify_password(conn, username, password)

    def job(conn: Connection) -> LoginResult:
        token, csrf, expires = users.open_session(conn, user, ttl=_ttl(platform))
        throttle.succeeded(conn, username, address)
        audit.record(
            conn,
            ids=platform.ids,
            actor=user.username,
            role=user.role,
            tenant=_tenant(user),
            address=address,
            action="auth.login",
            target=user.username,
            detail={"via": via, "address": address, **_who(user)},
        )
        return LoginResult(token, csrf, user, expires)

    try:
        # The Argon2 check runs in a worker thread, off the single writer (see users.verify_password).
        user = await run_in_threadpool(check)
        return await platform.db.writer.run(job)
    except Unauthorized:
        metrics.signin_failed("console")

        def failed(conn: Connection) -> None:
            now = local_naive_now()
            throttle.failed(conn, username, address, now)
            # counters whose window and lockout are over are of no use: keep the table small
            throttle.purge(conn, now - throttle.window - throttle.lockout)

        await platform.db.writer.run(failed)
        await _audit_refusal(platform, username, "auth.login_failed", {"via": via}, address=address)
        raise


def _tenant(user: User) -> str:
    """The user's tenant for the audit record (the agency's, until users carry one)."""
    tenant = getattr(user, "tenant", None)
    return str(tenant) if tenant is not None else "agency"


async def _audit_refusal(
    platform: Platform,
    username: str,
    action: str,
    detail: dict[str, object],
    *,
    address: str | None,
) -> None:
    """Audit a refused sign-in under the name it tried (which may not exist), with the
    address it came from."""
    name = username[:50]

    def job(conn: Connection) -> None:
        audit.record(
            conn,
            ids=platform.ids,
            actor=name or "-",
            action=action,
            target=name or None,
            detail=detail,
            address=address,
        )

    await platform.db.writer.run(job)


def audit_denied(
    platform: Platform,
    *,
    actor: str,
    user: User | None,
    reason: str,
    detail: Mapping[str, Any],
) -> None:
    """Audit a refused console request (`auth.denied`): a permission the role lacks, a
    missing or wrong CSRF token, a foreign Origin, a tampered token. Nothing else is written."""

    def job(conn: Connection) -> None:
        audit.record(
            conn,
            ids=platform.ids,
            actor=actor[:50] or "-",
            action="auth.denied",
            target=None,
            detail={"reason": reason, **(_who(user) if user else {}), **detail},
        )

    platform.db.writer.run_sync(job)


async def logout(platform: Platform, token: str, user: User, *, via: str) -> None:
    """Revoke the token and audit `auth.logout`."""

    def job(conn: Connection) -> None:
        users.logout(conn, token)
        audit.record(
            conn,
            ids=platform.ids,
            actor=user.username,
            action="auth.logout",
            target=user.username,
            detail={"via": via, **_who(user)},
        )

    await platform.db.writer.run(job)


def scope_of(user: User) -> Scope:
    """Whose records `user` may see: the agency every institution's, an institution its own,
    a chain its own and its stores'."""
    return Scope(user.fixmedins_codes)
