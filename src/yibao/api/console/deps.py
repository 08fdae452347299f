"""Who is calling: the `current_user` dependency of the console API and the pages.

A caller proves who they are with `Authorization: Bearer <token>` (from
`POST /api/v1/auth/login`) or with the `yibao_session` cookie (set by the page login); both
carry the same kind of token (`interface.console.auth`). Signed out:

- under `/api/` → 401 `{error: "unauthorized", message}`;
- anywhere else (pages such as `/dashboard`) → 303 redirect to `/login?next=<path>`.

Use it as `user: CurrentUser` (or `Depends(current_user)`); writes take `WriterUser`
(roles admin, operator; others get 403), the admin-only actions `AdminUser`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from yibao.errors import Forbidden, Unauthorized
from yibao.interface.console import auth
from yibao.interface.console.auth import User
from yibao.runtime import Platform

SESSION_COOKIE = "yibao_session"
WRITER_ROLES = frozenset({"admin", "operator"})
AUDIT_READER_ROLES = frozenset({"admin", "auditor"})

_bearer = HTTPBearer(auto_error=False, description="POST /api/v1/auth/login → access_token")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="页面登录 POST /login 设置的会话 cookie"
)


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def request_token(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = None,
    cookie: str | None = None,
) -> str | None:
    """The bearer token, else the session cookie (None when neither is sent)."""
    if bearer is not None and bearer.credentials:
        return bearer.credentials
    return cookie or request.cookies.get(SESSION_COOKIE) or None


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def login_redirect(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(
        status_code=303,
        detail="未登录 (sign in first)",
        headers={"Location": f"/login?next={quote(target, safe='')}"},
    )


def current_user(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> User:
    """The signed-in agency user (see module doc for what happens when signed out)."""
    token = request_token(request, bearer, cookie)
    try:
        if not token:
            raise Unauthorized(
                "未登录, 请先登录 (sign in: POST /api/v1/auth/login, then send "
                "'Authorization: Bearer <access_token>')"
            )
        user = auth.authenticate(get_platform(request), token)
    except Unauthorized:
        if _is_api(request):
            raise
        raise login_redirect(request) from None
    request.state.user = user
    return user


def writer_user(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role not in WRITER_ROLES:
        raise Forbidden(
            f"角色 '{user.role}' 只读, 不能修改 (read-only role; writes need admin or operator)"
        )
    return user


def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role != "admin":
        raise Forbidden(f"仅管理员可用 (admin only; your role is '{user.role}')")
    return user


def audit_reader(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role not in AUDIT_READER_ROLES:
        raise Forbidden(
            f"仅管理员与审计员可查看审计日志 (admin or auditor only; role '{user.role}')"
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]
WriterUser = Annotated[User, Depends(writer_user)]
AdminUser = Annotated[User, Depends(admin_user)]
AuditReader = Annotated[User, Depends(audit_reader)]
PlatformDep = Annotated[Platform, Depends(get_platform)]
