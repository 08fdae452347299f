"""Sign-in and sign-out: the API's bearer tokens and the pages' session cookie.

- `POST /api/v1/auth/login` {username, password} → {access_token, token_type, expires_at}
- `POST /api/v1/auth/logout` revokes the token (or cookie) the call carries
- `GET /api/v1/auth/me` the signed-in user
- `GET /login` the login page; `POST /login` (form) sets the HttpOnly, SameSite=Strict
  cookie `yibao_session` (Secure behind TLS) and the script-readable `yibao_csrf` (the CSRF
  token the pages send as X-CSRF-Token), and redirects to `next` (same-site paths only) or
  `/dashboard`; `POST /logout` (form field `csrf_token`) clears them.

Successful and failed sign-ins are audited (`auth.login`, `auth.login_failed`); throttled
ones answer 429 (audited `auth.login_throttled`; `users.throttle`). The use cases are
`yibao.interface.console.auth`; this module keeps HTTP: routes, the page, the cookies.
"""

from __future__ import annotations

import html
from importlib import resources
from string import Template
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from yibao.api.console.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    PlatformDep,
    _bearer,
    _cookie,
    foreign_origin,
    is_https,
    request_token,
)
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import ERRORS, LoginIn, TokenOut, UserOut
from yibao.errors import TooManyAttempts, Unauthorized
from yibao.interface.console import auth

DEFAULT_NEXT = "/dashboard"

api = APIRouter(prefix="/api/v1/auth", tags=["认证 auth"], route_class=ConsoleRoute)
pages = APIRouter(tags=["页面 pages"], include_in_schema=False)


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


@api.post(
    "/login",
    summary="登录, 换取访问令牌 (exchange username and password for a bearer token)",
    response_model=TokenOut,
    responses={400: ERRORS[400], 401: ERRORS[401], 429: ERRORS[429]},
)
async def api_login(body: LoginIn, request: Request, platform: PlatformDep) -> TokenOut:
    result = await auth.login(
        platform, body.username, body.password, via="api", address=_address(request)
    )
    return TokenOut(
        access_token=result.token, csrf_token=result.csrf_token, expires_at=result.expires_at
    )


@api.post(
    "/logout",
    summary="退出登录, 吊销当前令牌 (revoke the token or session of this call)",
    status_code=204,
    responses={401: ERRORS[401]},
)
async def api_logout(
    request: Request,
    user: CurrentUser,
    platform: PlatformDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Response:
    token = request_token(request, bearer, cookie)
    assert token is not None  # current_user has accepted it
    await auth.logout(platform, token, user, via="api")
    return Response(status_code=204)


@api.get(
    "/me",
    summary="当前用户 (the signed-in user)",
    response_model=UserOut,
    responses={401: ERRORS[401]},
)
def me(user: CurrentUser) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        tenant_kind=user.tenant_kind,
        tenant_code=user.tenant_code,
        department=user.department,
        permissions=sorted(p for p in auth.PERMISSIONS if auth.allowed(user.role, p)),
    )


# -- pages --------------------------------------------------------------------------------------


def safe_next(value: str | None) -> str:
    """Only same-site absolute paths: '/x' yes; '//host', 'http://…', '/\\host' no."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return DEFAULT_NEXT
    if any(ch in value for ch in "\r\n\\") or value.startswith("/login"):
        return DEFAULT_NEXT
    return value


def _page(*, next_: str, username: str = "", error: str | None = None) -> str:
    template = Template(
        resources.files("yibao.api.console").joinpath("login.html").read_text(encoding="utf-8")
    )
    return template.substitute(
        next=html.escape(next_, quote=True),
        username=html.escape(username, quote=True),
        error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
    )


_NO_STORE = {"Cache-Control": "no-store"}


@pages.get("/login", response_class=HTMLResponse)
def login_page(next: str | None = None) -> HTMLResponse:
    return HTMLResponse(_page(next_=safe_next(next)), headers=_NO_STORE)


@pages.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    platform: PlatformDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    target = safe_next(next)
    if foreign_origin(request) is not None:
        # login CSRF: a foreign page must not sign the browser in under another account
        return HTMLResponse(
            _page(next_=target, error="来源不符, 请在本站登录页登录"),
            status_code=403,
            headers=_NO_STORE,
        )
    if not username or not password:
        return HTMLResponse(
            _page(next_=target, username=username, error="请输入用户名和密码"),
            status_code=400,
            headers=_NO_STORE,
        )
    try:
        result = await auth.login(
            platform, username, password, via="page", address=_address(request)
        )
    except Unauthorized:
        return HTMLResponse(
            _page(next_=target, username=username, error="用户名或密码错误"),
            status_code=401,
            headers=_NO_STORE,
        )
    except TooManyAttempts as exc:
        return HTMLResponse(
            _page(next_=target, username=username, error=exc.message.split(" (")[0]),
            status_code=429,
            headers=_NO_STORE,
        )
    response = RedirectResponse(target, status_code=303)
    max_age = int(auth.session_ttl(platform).total_seconds())
    secure = is_https(request)
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    # Not HttpOnly: the pages' scripts read it to send X-CSRF-Token. Useless to another site
    # (SameSite=Strict, and a foreign page cannot read this site's cookies).
    response.set_cookie(
        CSRF_COOKIE,
        result.csrf_token,
        max_age=max_age,
        path="/",
        httponly=False,
        samesite="strict",
        secure=secure,
    )
    return response


@pages.post("/logout")
async def logout_submit(
    request: Request,
    platform: PlatformDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            session = await run_in_threadpool(auth.session_of, platform, token)
        except Unauthorized:
            pass
        else:
            presented = request.headers.get("x-csrf-token") or csrf_token
            if foreign_origin(request) is not None or not auth.csrf_matches(
                session.csrf_sha256, presented
            ):
                await run_in_threadpool(
                    lambda: auth.audit_denied(
                        platform,
                        actor=session.user.username,
                        user=session.user,
                        reason="csrf",
                        detail={"method": "POST", "path": "/logout"},
                    )
                )
                return HTMLResponse(
                    "<p>请求无效, 请从控制台页面退出 (invalid request: sign out from the console page)</p>",
                    status_code=403,
                    headers=_NO_STORE,
                )
            await auth.logout(platform, token, session.user, via="page")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")
    return response
