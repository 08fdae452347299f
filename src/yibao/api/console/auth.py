"""Sign-in and sign-out: the API's bearer tokens and the pages' session cookie.

- `POST /api/v1/auth/login` {username, password} → {access_token, token_type, expires_at}
- `POST /api/v1/auth/logout` revokes the token (or cookie) the call carries
- `GET /api/v1/auth/me` the signed-in user
- `GET /login` the login page; `POST /login` (form) sets the HttpOnly, SameSite=Strict
  cookie `yibao_session` and redirects to `next` (same-site paths only) or `/dashboard`;
  `POST /logout` clears it.

Successful and failed sign-ins are audited (`auth.login`, `auth.login_failed`). After 5
failures for one account or 20 from one address within 15 minutes, sign-ins are refused for
5 minutes without checking the password (429, audited `auth.login_throttled`). The use cases
are `yibao.interface.console.auth`; this module keeps HTTP: routes, the page, the cookie.
"""

from __future__ import annotations

import html
from importlib import resources
from string import Template
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials

from yibao.api.console.deps import (
    SESSION_COOKIE,
    CurrentUser,
    PlatformDep,
    _bearer,
    _cookie,
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
    token, _user, expires = await auth.login(
        platform, body.username, body.password, via="api", address=_address(request)
    )
    return TokenOut(access_token=token, expires_at=expires)


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
    await auth.logout(platform, token, user.username, via="api")
    return Response(status_code=204)


@api.get(
    "/me",
    summary="当前用户 (the signed-in user)",
    response_model=UserOut,
    responses={401: ERRORS[401]},
)
def me(user: CurrentUser) -> UserOut:
    return UserOut(username=user.username, display_name=user.display_name, role=user.role)


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
    if not username or not password:
        return HTMLResponse(
            _page(next_=target, username=username, error="请输入用户名和密码"),
            status_code=400,
            headers=_NO_STORE,
        )
    try:
        token, _user, _expires = await auth.login(
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
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(auth.SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@pages.post("/logout")
async def logout_submit(request: Request, platform: PlatformDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            user = await auth.session_user(platform, token)
        except Unauthorized:
            pass
        else:
            await auth.logout(platform, token, user.username, via="page")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
