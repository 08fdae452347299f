"""Who is calling and whether they may: the `current_user` dependency of the console API and
the pages, and `Permit(permission)` for each route.

A caller proves who they are with `Authorization: Bearer <token>` (from
`POST /api/v1/auth/login`) or with the `yibao_session` cookie (set by the page login); both
carry the same kind of token (`interface.console.auth`). Signed out:

- under `/api/` → 401 `{error: "unauthorized", message}`;
- anywhere else (pages such as `/dashboard`) → 303 redirect to `/login?next=<path>`.

A **cookie-authenticated write** (any method but GET, HEAD, OPTIONS) must also carry the
session's CSRF token in `X-CSRF-Token` (issued at sign-in; the pages read it from the
`yibao_csrf` cookie) and, when the browser sends one, an `Origin` (else `Referer`) of this
site; bearer requests are exempt (a browser never adds a bearer token by itself). Refusals
are 403 and audited (`auth.denied`).

Every route declares its permission (`users.permissions`): `user: Annotated[User,
Depends(Permit("person.read"))]`, or the aliases below. `ConsoleRoute` copies it into the
OpenAPI as `x-permission`, from which the test suite runs every endpoint × every role.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from yibao.errors import Forbidden, Unauthorized
from yibao.interface.console import auth
from yibao.interface.console.auth import User
from yibao.runtime import Platform

SESSION_COOKIE = "yibao_session"
#: the session's CSRF token, readable by the pages' scripts (they send it as X-CSRF-Token)
CSRF_COOKIE = "yibao_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

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


def is_https(request: Request) -> bool:
    """Behind TLS: the request's scheme, or X-Forwarded-Proto from the proxy in front."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https" or request.url.scheme == "https"


def own_origin(request: Request) -> str:
    host = request.headers.get("host") or request.url.netloc
    return f"{'https' if is_https(request) else request.url.scheme}://{host}".lower()


def foreign_origin(request: Request) -> str | None:
    """The Origin (or Referer's origin) when it is not this site's; None when same-site or
    not sent."""
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return None
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    origin = origin.strip().lower()
    ours = own_origin(request)
    # a proxy may terminate TLS without telling us: accept the same host on either scheme
    same = origin in (ours, ours.replace("http://", "https://", 1))
    return None if same else origin[:100]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def login_redirect(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(
        status_code=303,
        detail="未登录 (sign in first)",
        headers={"Location": f"/login?next={quote(target, safe='')}"},
    )


def _deny(request: Request, reason: str, message: str) -> None:
    """Refuse with 403; the app's error handler audits it (`auth.denied`, with `reason`)."""
    request.state.denied = reason
    raise Forbidden(message)


def check_cookie_write(request: Request, session: auth.Session) -> None:
    """CSRF token and Origin of a cookie-authenticated write; 403 (audited) otherwise."""
    foreign = foreign_origin(request)
    if foreign is not None:
        _deny(
            request,
            "origin",
            f"来源不符, 已拒绝 (cross-site request refused: Origin {foreign} is not this site)",
        )
    if not auth.csrf_matches(session.csrf_sha256, request.headers.get(CSRF_HEADER)):
        _deny(
            request,
            "csrf",
            f"缺少或错误的 {CSRF_HEADER} (missing or wrong CSRF token: send the "
            f"'{CSRF_COOKIE}' cookie's value in the {CSRF_HEADER} header)",
        )


def current_user(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> User:
    """The signed-in user (see module doc for what happens when signed out)."""
    token = request_token(request, bearer, cookie)
    platform = get_platform(request)
    try:
        if not token:
            raise Unauthorized(
                "未登录, 请先登录 (sign in: POST /api/v1/auth/login, then send "
                "'Authorization: Bearer <access_token>')"
            )
        session = auth.session_of(platform, token)
    except Unauthorized:
        # a token was sent but is unknown, expired, revoked or tampered: audited by the handler
        request.state.bad_token = bool(token)
        if _is_api(request):
            raise
        raise login_redirect(request) from None
    request.state.user = session.user
    via_cookie = not (bearer is not None and bearer.credentials)
    if via_cookie and request.method not in SAFE_METHODS:
        check_cookie_write(request, session)
    return session.user


class Permit:
    """A dependency: the signed-in user if its role holds `permission`, else 403 (audited)."""

    # read by ConsoleRoute to publish `x-permission`

    def __init__(self, permission: str) -> None:
        if permission not in auth.PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}")
        self.permission = permission

    def __call__(self, request: Request, user: Annotated[User, Depends(current_user)]) -> User:
        if not auth.allowed(user.role, self.permission):
            _deny(
                request,
                "permission",
                f"无权限: 角色 '{user.role}' 没有 {self.permission} "
                f"(your role may not do this: needs {self.permission})",
            )
        return user


CurrentUser = Annotated[User, Depends(current_user)]
InstitutionReader = Annotated[User, Depends(Permit("institution.read"))]
InstitutionWriter = Annotated[User, Depends(Permit("institution.write"))]
CredentialReader = Annotated[User, Depends(Permit("credential.read"))]
CredentialManager = Annotated[User, Depends(Permit("credential.manage"))]
PersonReader = Annotated[User, Depends(Permit("person.read"))]
PersonWriter = Annotated[User, Depends(Permit("person.write"))]
AccountCreditor = Annotated[User, Depends(Permit("account.credit"))]
SettlementReader = Annotated[User, Depends(Permit("settlement.read"))]
ReconcileReader = Annotated[User, Depends(Permit("reconcile.read"))]
AnalyticsReader = Annotated[User, Depends(Permit("analytics.read"))]
AuditReader = Annotated[User, Depends(Permit("audit.read"))]
UserReader = Annotated[User, Depends(Permit("user.read"))]
UserManager = Annotated[User, Depends(Permit("user.manage"))]
AlertReader = Annotated[User, Depends(Permit("alert.read"))]
AlertAcknowledger = Annotated[User, Depends(Permit("alert.ack"))]
ClearingReader = Annotated[User, Depends(Permit("clearing.read"))]
ClearingManager = Annotated[User, Depends(Permit("clearing.manage"))]
RegistrationReader = Annotated[User, Depends(Permit("registration.read"))]
RegistrationWriter = Annotated[User, Depends(Permit("registration.write"))]
PlatformDep = Annotated[Platform, Depends(get_platform)]
