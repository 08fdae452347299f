"""Console users: list, create, change (roles, tenant, display name, department, validity,
password). The security administrator manages every user; an institution's or a chain's
administrator its own tenant's institution roles. A user cannot change its own role, tenant
or validity (403); 三权分立 accounts keep their role. Every change is audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from yibao.api.console.deps import PlatformDep, UserManager, UserReader
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import (
    ERRORS,
    MAX_OFFSET,
    ConsoleUserIn,
    ConsoleUserOut,
    ConsoleUserPage,
    ConsoleUserPatch,
)
from yibao.interface.console import users

router = APIRouter(prefix="/api/v1/users", tags=["用户 users"], route_class=ConsoleRoute)

_WRITE: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404, 409)}


@router.get(
    "",
    summary="控制台用户 (console users of the tenants you administer)",
    response_model=ConsoleUserPage,
    responses={k: ERRORS[k] for k in (400, 401, 403)},
)
def list_users(
    user: UserReader,
    platform: PlatformDep,
    role: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ConsoleUserPage:
    total, rows = users.list_users(platform, user, role=role, limit=limit, offset=offset)
    return ConsoleUserPage(total=total, items=[ConsoleUserOut(**r) for r in rows])


@router.post(
    "",
    summary="创建用户 (create a user of one role in one tenant)",
    status_code=201,
    response_model=ConsoleUserOut,
    responses=_WRITE,
)
async def create_user(
    body: ConsoleUserIn, user: UserManager, platform: PlatformDep
) -> ConsoleUserOut:
    return ConsoleUserOut(**await users.create_user(platform, user, body.model_dump()))


@router.get(
    "/{username}",
    summary="用户详情 (one user)",
    response_model=ConsoleUserOut,
    responses={k: ERRORS[k] for k in (401, 403, 404)},
)
def get_user(username: str, user: UserReader, platform: PlatformDep) -> ConsoleUserOut:
    return ConsoleUserOut(**users.get_user(platform, user, username))


@router.patch(
    "/{username}",
    summary="变更用户: 角色、所属机构、状态、密码 (change a user; never your own role or tenant)",
    response_model=ConsoleUserOut,
    responses=_WRITE,
)
async def change_user(
    username: str, body: ConsoleUserPatch, user: UserManager, platform: PlatformDep
) -> ConsoleUserOut:
    given = body.model_dump(exclude_unset=True, exclude_none=True)
    return ConsoleUserOut(**await users.change_user(platform, user, username, given))
