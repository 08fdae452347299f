"""`yibao users …` — console accounts from the command line: list, add, change.

The command line acts with the security administrator's powers (whoever runs it can read the
data directory anyway); every change is audited with the actor `cli:<os user>`. Passwords
come from `--password` (or YIBAO_NEW_USER_PASSWORD), else one is generated and printed once.
"""

from __future__ import annotations

import getpass

import typer
from sqlalchemy import Connection

from yibao.cli.common import console, friendly_errors, settings
from yibao.enrolment import audit
from yibao.runtime import open_platform
from yibao.users import service as users
from yibao.users.permissions import ROLES
from yibao.users.service import User

app = typer.Typer(
    help="控制台用户 console users: roles "
    + ", ".join(ROLES)
    + " (docs/console.md has the permission table).",
    no_args_is_help=True,
)


def _actor() -> User:
    try:
        name = f"cli:{getpass.getuser()}"
    except Exception:
        name = "cli"
    return User(name[:50], name[:50], "secadmin")


def _who(actor: User) -> dict[str, str]:
    return {"role": "cli", "tenant": "agency"}


@app.command("list")
def list_users(
    role: str | None = typer.Option(None, help="只列此角色 only this role"),
    tenant: str | None = typer.Option(None, help="只列此机构 only this tenant's (机构编码)"),
    limit: int = typer.Option(200, min=1, max=10_000),
) -> None:
    """List console users (never a password)."""
    cfg = settings()
    with friendly_errors():
        platform = open_platform(cfg)
        try:
            with platform.db.read() as conn:
                total, rows = users.list_users(
                    conn,
                    tenant_codes=frozenset({tenant}) if tenant else None,
                    role=role,
                    limit=limit,
                )
        finally:
            platform.close()
    console.print(f"共 {total} 个用户 users")
    for r in rows:
        state = "有效" if r["vali_flag"] == "1" else "停用"
        console.print(
            f"{r['username']}\t{r['role']}\t{r['tenant_code'] or 'agency'}\t"
            f"{r['display_name']}\t{state}"
        )


@app.command("add")
def add_user(
    username: str = typer.Argument(..., help="登录名 (1–50 characters)"),
    role: str = typer.Option(..., help="角色: " + ", ".join(ROLES)),
    tenant: str | None = typer.Option(
        None, help="所属机构编码 (institution roles; a chain_admin: the chain's head)"
    ),
    name: str | None = typer.Option(None, help="显示名 display name"),
    department: str | None = typer.Option(None, help="经办机构科室 (agency roles)"),
    password: str | None = typer.Option(
        None, envvar="YIBAO_NEW_USER_PASSWORD", help="密码; omitted: generated and printed once"
    ),
) -> None:
    """Create a console user of one role in one tenant (audited `user.create`)."""
    actor = _actor()
    chosen = password or users.generate_password()
    cfg = settings()
    with friendly_errors():
        platform = open_platform(cfg)
        try:

            def job(conn: Connection) -> User:
                created = users.create_user(
                    conn,
                    username=username,
                    password=chosen,
                    role=role,
                    display_name=name or username,
                    tenant_code=tenant,
                    department=department,
                )
                audit.record(
                    conn,
                    ids=platform.ids,
                    actor=actor.username,
                    action="user.create",
                    target=created.username,
                    detail={
                        "new_role": created.role,
                        "new_tenant": created.tenant_code or "agency",
                        **_who(actor),
                    },
                )
                return created

            created = platform.db.writer.run_sync(job)
        finally:
            platform.close()
    console.print(
        f"用户已创建 created: {created.username} ({created.role}, "
        f"{created.tenant_code or 'agency'})"
    )
    if password is None:
        console.print(f"密码 password (shown once): {chosen}")


@app.command("change")
def change_user(
    username: str = typer.Argument(...),
    role: str | None = typer.Option(None, help="新角色 (三权分立 accounts keep theirs)"),
    tenant: str | None = typer.Option(None, help="新所属机构编码"),
    name: str | None = typer.Option(None, help="显示名"),
    department: str | None = typer.Option(None),
    enable: bool | None = typer.Option(None, "--enable/--disable", help="启用或停用"),
    password: str | None = typer.Option(
        None, envvar="YIBAO_NEW_USER_PASSWORD", help="新密码 (ends the user's sessions)"
    ),
) -> None:
    """Change a user's role, tenant, name, department, validity or password (audited
    `user.change`; a role, tenant, validity or password change ends its sessions)."""
    actor = _actor()
    cfg = settings()
    with friendly_errors():
        platform = open_platform(cfg)
        try:

            def job(conn: Connection) -> dict[str, object]:
                changes = users.change_user(
                    conn,
                    actor=actor,
                    username=username,
                    role=role,
                    tenant_code=tenant,
                    display_name=name,
                    department=department,
                    vali_flag=None if enable is None else ("1" if enable else "0"),
                    password=password,
                )
                if changes:
                    audit.record(
                        conn,
                        ids=platform.ids,
                        actor=actor.username,
                        action="user.change",
                        target=username,
                        detail={"changes": changes, **_who(actor)},
                    )
                return dict(changes)

            changes = platform.db.writer.run_sync(job)
        finally:
            platform.close()
    console.print(f"已变更 changed: {', '.join(changes) or '无 nothing'}")
