"""Console users for the console: list (a tenant administrator sees its tenant's), create and
change — by the security administrator, or by an institution's or a chain's administrator
for its own tenant's institution roles. Every change is audited (`user.create`,
`user.change`, with the role and tenant of who did it); a user cannot change its own role,
tenant or validity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment import audit
from yibao.errors import Forbidden, NotFound
from yibao.interface.console.auth import User
from yibao.runtime import Platform
from yibao.users import service as users


def _who(user: User) -> dict[str, Any]:
    return {"role": user.role, "tenant": user.tenant_code or "agency"}


def list_users(
    platform: Platform, user: User, *, role: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """A secadmin sees every user; a tenant administrator its tenant's."""
    codes = None if user.role == "secadmin" else (user.fixmedins_codes or frozenset())
    with platform.db.read() as conn:
        return users.list_users(conn, tenant_codes=codes, role=role, limit=limit, offset=offset)


def get_user(platform: Platform, user: User, username: str) -> dict[str, Any]:
    with platform.db.read() as conn:
        row = users.get_user(conn, username)
    if row is None or not users.may_grant(user, row["role"], row["tenant_code"]):
        raise NotFound(f"username: 用户不存在 '{username}' (no such user)")
    return row


async def create_user(platform: Platform, user: User, fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields`: username, password, role, display_name, tenant_code, department."""
    role = str(fields["role"])
    tenant = fields.get("tenant_code")
    if not users.may_grant(user, role, tenant):
        raise Forbidden(
            f"role: 无权在该机构创建角色 '{role}' 的用户 (you may not create this role "
            "in this tenant)"
        )

    def job(conn: Connection) -> dict[str, Any]:
        created = users.create_user(
            conn,
            username=fields["username"],
            password=fields["password"],
            role=role,
            display_name=fields.get("display_name") or fields["username"],
            tenant_code=tenant,
            department=fields.get("department"),
        )
        audit.record(
            conn,
            ids=platform.ids,
            actor=user.username,
            action="user.create",
            target=created.username,
            detail={
                "new_role": created.role,
                "new_tenant": created.tenant_code or "agency",
                **_who(user),
            },
        )
        row = users.get_user(conn, created.username)
        assert row is not None
        return row

    return await platform.db.writer.run(job)


async def change_user(
    platform: Platform, user: User, username: str, given: Mapping[str, Any]
) -> dict[str, Any]:
    def job(conn: Connection) -> dict[str, Any]:
        changes = users.change_user(conn, actor=user, username=username, **dict(given))
        if changes:
            audit.record(
                conn,
                ids=platform.ids,
                actor=user.username,
                action="user.change",
                target=username,
                detail={"changes": changes, **_who(user)},
            )
        row = users.get_user(conn, username)
        assert row is not None
        return row

    return await platform.db.writer.run(job)
