"""Console users (every tenant's) and their sessions.

Passwords are hashed with Argon2id (argon2-cffi defaults) and must pass `check_password`
(length, character classes, not the username). A sign-in is two steps — `verify_password`
(slow, on a read connection) then `open_session` (one insert, in the writer) — and issues a
random token and a CSRF token; only their sha256 are stored, so a leaked table does not leak
sessions. The same token serves as the API's bearer token and the pages' session cookie.

A session ends at its absolute expiry (`expires_at`, set at sign-in), after `idle` without
use, at sign-out, or when the user's role, tenant or password changes or the user is
disabled.

A user belongs to one tenant: the agency (`tenant_code` None, optionally a `department`), an
institution or a pharmacy chain (`tenant_code` its code); the role decides which kind
(`permissions.ROLES`). `User.fixmedins_codes` is what the user may see: None for the agency,
the institution's code, or the chain's code and its stores'.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from yibao.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from yibao.kit.clock import local_naive_now
from yibao.users import repo
from yibao.users.permissions import (
    LEGACY_ROLES,
    ROLES,
    SEPARATED,
    TENANT_GRANTABLE,
    TenantKind,
    allowed,
    role_change_allowed,
)

#: the default absolute session lifetime (settings: session_absolute_hours)
SESSION_TTL = timedelta(hours=12)
#: the default idle limit (settings: session_idle_minutes)
SESSION_IDLE = timedelta(minutes=30)
#: `last_seen_at` is written at most this often (one write per minute per session, not per call)
TOUCH_EVERY = timedelta(seconds=60)
PASSWORD_MIN = 10

_hasher = PasswordHasher()
#: for demo accounts only, whose passwords are public anyway (derived from the demo's seed and
#: written to demo-fixtures.json): a cheap hash keeps `yibao demo` fast. Verification reads
#: the parameters from the hash, so these accounts sign in like any other.
_demo_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    #: None: the agency; else the institution's or the chain's code
    tenant_code: str | None = None
    department: str | None = None
    #: the institutions whose records the user sees (None: all, the agency)
    fixmedins_codes: frozenset[str] | None = None

    @property
    def tenant_kind(self) -> str:
        return ROLES[self.role].tenant.value if self.role in ROLES else "unknown"

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)


@dataclass(frozen=True)
class Session:
    user: User
    #: the sha256 of the session's CSRF token (None for sessions opened before it existed)
    csrf_sha256: str | None


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str, username: str) -> None:
    """The password policy: at least 10 characters, 3 of the 4 classes (lower, upper, digit,
    other), and not containing the username."""
    if len(password) < PASSWORD_MIN or len(password) > 200:
        raise InvalidInput(
            f"password: 密码须为 {PASSWORD_MIN}–200 个字符 "
            f"(between {PASSWORD_MIN} and 200 characters)"
        )
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if classes < 3:
        raise InvalidInput(
            "password: 密码须含小写字母、大写字母、数字、其他字符中的至少三类 "
            "(use at least 3 of: lower case, upper case, digits, other characters)"
        )
    if username and username.strip().lower() in password.lower():
        raise InvalidInput(
            "password: 密码不能包含用户名 (the password may not contain the username)"
        )


def generate_password() -> str:
    """A random password that passes the policy (20 characters, every class)."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(16))
    return (
        core
        + secrets.choice(string.ascii_uppercase)
        + secrets.choice(string.ascii_lowercase)
        + secrets.choice(string.digits)
        + secrets.choice("-_.!")
    )


def _check_tenant(conn: Connection, role: str, tenant_code: str | None) -> str | None:
    kind = ROLES[role].tenant
    if kind is TenantKind.AGENCY:
        if tenant_code:
            raise InvalidInput(
                f"tenant_code: 经办机构角色 '{role}' 不属于定点机构 "
                "(an agency role takes no tenant_code)"
            )
        return None
    if not tenant_code:
        raise InvalidInput(
            f"tenant_code: 角色 '{role}' 须指定所属机构编码 (this role needs the institution's code)"
        )
    inst = repo.institution(conn, tenant_code)
    if inst is None:
        raise NotFound(f"tenant_code: 机构不存在 '{tenant_code}' (no such institution)")
    if kind is TenantKind.CHAIN and (inst["kind"] != "pharmacy" or inst["parent_code"]):
        raise InvalidInput(
            f"tenant_code: 连锁管理员须属于连锁药店总部 '{tenant_code}' "
            "(chain_admin belongs to a pharmacy chain's head)"
        )
    return tenant_code


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role: 角色不存在 '{role}' (allowed: {', '.join(ROLES)})")


def may_grant(actor: User, role: str, tenant_code: str | None) -> bool:
    """Whether `actor` may create (or change) a user of `role` in `tenant_code`: a secadmin
    any, an inst_admin its institution's roles in its institution, a chain_admin those in
    its chain's institutions."""
    if actor.role == "secadmin":
        return True
    grantable = TENANT_GRANTABLE.get(actor.role)
    if grantable is None or role not in grantable or tenant_code is None:
        return False
    if role == "chain_admin" and tenant_code != actor.tenant_code:
        return False  # a chain's administrators belong to the chain's head
    codes = actor.fixmedins_codes
    return codes is not None and tenant_code in codes


def create_user(
    conn: Connection,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str,
    tenant_code: str | None = None,
    department: str | None = None,
    demo: bool = False,
) -> User:
    """A new user. `demo`: a demo account whose password is public (a cheap hash)."""
    role = LEGACY_ROLES.get(role, role)
    _check_role(role)
    if not username or len(username) > 50 or any(c.isspace() for c in username):
        raise InvalidInput("username: 用户名为 1–50 个非空白字符 (1–50 characters, no spaces)")
    check_password(password, username)
    tenant = _check_tenant(conn, role, tenant_code)
    if repo.user_exists(conn, username):
        raise Conflict(f"username: 用户已存在 '{username}' (already exists)")
    repo.insert_user(
        conn,
        username=username,
        password_hash=(_demo_hasher if demo else _hasher).hash(password),
        display_name=display_name or username,
        role=role,
        tenant_code=tenant,
        department=department if tenant is None else None,
        created_at=local_naive_now(),
    )
    return User(username, display_name or username, role, tenant, department)


def user_exists(conn: Connection, username: str) -> bool:
    return repo.user_exists(conn, username)


def get_user(conn: Connection, username: str) -> dict[str, Any] | None:
    """The user's row without its password hash, or None."""
    row = repo.get_user(conn, username)
    if row is None:
        return None
    row.pop("password_hash", None)
    return row


def list_users(
    conn: Connection,
    *,
    tenant_codes: frozenset[str] | None,
    role: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    return repo.page_users(conn, tenant_codes=tenant_codes, role=role, limit=limit, offset=offset)


def change_user(
    conn: Connection,
    *,
    actor: User,
    username: str,
    role: str | None = None,
    tenant_code: str | None = None,
    display_name: str | None = None,
    department: str | None = None,
    vali_flag: str | None = None,
    password: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Change a user; returns `{field: {from, to}}` (passwords as "***"). The actor may not
    change its own role, tenant or validity; an account of the three separated powers keeps
    its role. Sessions end when the role, tenant, password or validity changes."""
    row = repo.get_user(conn, username)
    if row is None or not may_grant(actor, row["role"], row["tenant_code"]):
        raise NotFound(f"username: 用户不存在 '{username}' (no such user)")
    own = username == actor.username
    if own and (role is not None or tenant_code is not None or vali_flag is not None):
        raise Forbidden(
            "不能修改自己的角色、所属机构或状态 (a user cannot change its own role, tenant "
            "or validity; ask a security administrator)"
        )
    new_role = role if role is not None else row["role"]
    _check_role(new_role)
    if not role_change_allowed(row["role"], new_role):
        raise Forbidden(
            f"role: 三权分立, 账户 '{username}' 不能从 '{row['role']}' 改为 '{new_role}' "
            f"(separation of duties: {', '.join(sorted(SEPARATED))} are separate accounts)"
        )
    new_tenant = tenant_code if tenant_code is not None else row["tenant_code"]
    if role is not None and ROLES[new_role].tenant is TenantKind.AGENCY and tenant_code is None:
        new_tenant = None
    new_tenant = _check_tenant(conn, new_role, new_tenant)
    if not may_grant(actor, new_role, new_tenant):
        raise Forbidden(
            f"role: 无权授予角色 '{new_role}' (you may not give this role in this tenant)"
        )
    if vali_flag is not None and vali_flag not in ("0", "1"):
        raise InvalidInput("vali_flag: 须为 '0' 或 '1' (must be '0' or '1')")
    values: dict[str, Any] = {}
    changes: dict[str, dict[str, Any]] = {}
    for field, new in (
        ("role", new_role),
        ("tenant_code", new_tenant),
        ("display_name", display_name),
        ("department", department),
        ("vali_flag", vali_flag),
    ):
        if (new is not None and new != row[field]) or (
            field == "tenant_code" and new != row[field]
        ):
            values[field] = new
            changes[field] = {"from": row[field], "to": new}
    if password is not None:
        check_password(password, username)
        values["password_hash"] = _hasher.hash(password)
        changes["password"] = {"from": "***", "to": "***"}
    if values:
        repo.update_user(conn, username, values)
        if changes.keys() & {"role", "tenant_code", "password", "vali_flag"}:
            repo.revoke_user_sessions(conn, username, local_naive_now())
    return changes


def set_password(conn: Connection, username: str, password: str) -> None:
    check_password(password, username)
    repo.set_password_hash(conn, username, _hasher.hash(password))
    repo.revoke_user_sessions(conn, username, local_naive_now())


def migrate_roles(conn: Connection) -> int:
    """Rename the old single-tenant roles (`admin` → `sysadmin`); returns the rows changed."""
    return repo.rename_roles(conn, LEGACY_ROLES)


def _scope_codes(conn: Connection, role: str, tenant_code: str | None) -> frozenset[str] | None:
    kind = ROLES[role].tenant if role in ROLES else None
    if kind is TenantKind.AGENCY:
        return None
    if tenant_code is None or kind is None:
        return frozenset()  # a broken row sees nothing rather than everything
    if kind is TenantKind.CHAIN:
        return repo.chain_codes(conn, tenant_code)
    return frozenset({tenant_code})


def _user(conn: Connection, row: dict[str, Any]) -> User:
    return User(
        row["username"],
        row["display_name"],
        row["role"],
        row["tenant_code"],
        row["department"],
        _scope_codes(conn, row["role"], row["tenant_code"]),
    )


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
    return _user(conn, row)


def open_session(
    conn: Connection, user: User, *, ttl: timedelta = SESSION_TTL
) -> tuple[str, str, datetime]:
    """Open a session for a verified user (fast: one insert); returns (token, csrf_token,
    expires_at)."""
    if not repo.is_active(conn, user.username):
        raise Unauthorized("用户名或密码错误 (wrong username or password)")
    now = local_naive_now()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + ttl
    repo.insert_session(
        conn,
        token_sha256=sha256(token),
        username=user.username,
        created_at=now,
        expires_at=expires,
        csrf_sha256=sha256(csrf),
    )
    repo.mark_login(conn, user.username, now)
    return token, csrf, expires


def session(
    conn: Connection, token: str, *, idle: timedelta = SESSION_IDLE
) -> tuple[Session, bool]:
    """(the session behind a bearer token or cookie, whether its last use should be written),
    or Unauthorized when unknown, revoked, past its absolute expiry or idle too long."""
    if not token:
        raise Unauthorized("未登录 (sign in first: POST /api/v1/auth/login)")
    row = repo.session_user(conn, sha256(token))
    now = local_naive_now()
    if row is None or row["expires_at"] < now:
        raise Unauthorized("登录已失效 (session expired or unknown; sign in again)")
    seen = row["last_seen_at"]
    if seen is not None and seen + idle < now:
        raise Unauthorized("长时间未操作, 登录已失效 (session idle too long; sign in again)")
    touch = seen is None or now - seen >= TOUCH_EVERY
    return Session(_user(conn, row), row["csrf_sha256"]), touch


def touch(conn: Connection, token: str) -> None:
    repo.touch_session(conn, sha256(token), local_naive_now())


def authenticate(conn: Connection, token: str, *, idle: timedelta = SESSION_IDLE) -> User:
    """The user behind a bearer token or session cookie, or Unauthorized."""
    return session(conn, token, idle=idle)[0].user


def csrf_matches(expected_sha256: str | None, presented: str | None) -> bool:
    """Whether the presented X-CSRF-Token is the session's (constant-time)."""
    if not expected_sha256 or not presented:
        return False
    return hmac.compare_digest(expected_sha256, sha256(presented))


def logout(conn: Connection, token: str) -> None:
    repo.revoke_session(conn, sha256(token), local_naive_now())
