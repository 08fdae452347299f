"""The composition root of the server: `create_app(settings)` builds the platform and mounts
every edge. Nothing here runs at import time.
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yibao import __version__
from yibao.api import analytics, analytics_proxy, console, docs, health, nhsa, print_pages
from yibao.api.security import SecurityHeaders
from yibao.config import Settings
from yibao.errors import YibaoError
from yibao.interface import outage as faults
from yibao.interface.console import auth as console_auth
from yibao.obs import logs
from yibao.runtime import Platform, open_platform

log = logging.getLogger(__name__)

#: Domains mount their routers and services here: `fn(app, platform)`, called at build time.
Mounter = Callable[[FastAPI, Platform], None]


class _App(FastAPI):
    """FastAPI with the national-interface hot path in front of it: a `POST` under the
    gateway's prefixes goes straight to the gateway's ASGI callable, skipping routing and the
    middleware stack (the gateway answers every error itself, always HTTP 200)."""

    _fast: ASGIApp | None = None
    _fast_prefixes: tuple[str, ...] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self._fast
        if (
            fast is not None
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith(self._fast_prefixes)
        ):
            await fast(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class _RequestId:
    """Every console request runs under a request id (the client's ``X-Request-Id`` when it is
    a plain token, else a new one): its log lines carry it and the answer returns it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                offered = value.decode("latin-1")
                break
        with logs.request_scope(offered) as rid:
            header = (b"x-request-id", rid.encode())

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), header]
                await send(message)

            await self.app(scope, receive, send_with_id)


_REFUSED_PAGE = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>无权限</title>'
    "</head><body><main><h1>无权限访问此页面</h1><p>{message}</p>"
    '<p><a href="/login">换一个账号登录</a></p></main></body></html>'
)


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


async def _audit_refusal(platform: Platform, request: Request, exc: YibaoError) -> None:
    """Audit a console request refused for who made it (`auth.denied`): a permission the role
    lacks, a bad CSRF token or origin (403), a record outside a tenant user's scope (404: the
    answer says "missing", the trail says who probed), a sent token that is unknown, expired
    or tampered (401). Nothing else is written."""
    state = request.state
    user = getattr(state, "user", None)
    reason: str | None = None
    if exc.status_code == 403 and user is not None:
        reason = getattr(state, "denied", None) or "forbidden"
    elif exc.status_code == 404 and user is not None and user.tenant_code is not None:
        reason = "not_found_or_out_of_scope"
    elif exc.status_code == 401 and getattr(state, "bad_token", False):
        reason = "bad_token"
    if reason is None:
        return
    await run_in_threadpool(
        console_auth.audit_denied,
        platform,
        actor=user.username if user is not None else "-",
        user=user,
        reason=reason,
        detail={
            "method": request.method,
            "path": request.url.path[:200],
            "address": request.client.host if request.client else None,
        },
    )


def _mounters() -> list[Mounter]:
    # Each domain's edge adds its `mount` here.
    return [
        health.mount,
        console.mount,
        nhsa.mount,
        analytics.mount,
        docs.mount,
        print_pages.mount,
    ]


def create_app(
    settings: Settings, *, platform: Platform | None = None, analytics_url: str | None = None
) -> FastAPI:
    """The server's app. `analytics_url`: the analytics process this gateway passes the
    analytics and replica APIs to (`yibao serve`); None serves them (and the replica) here."""
    platform = platform or open_platform(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform.db.writer.start()
        for starter in app.state.on_start:
            starter()
        try:
            yield
        finally:
            for stopper in reversed(app.state.on_stop):
                try:
                    stopper()
                except Exception:
                    log.exception("stopping failed")
            platform.close()

    app = _App(
        title="yibao",
        version=__version__,
        summary="医保信息平台 — national-interface settlement, codes, T+0 analytics",
        lifespan=lifespan,
        # /docs is served from vendored assets (api/docs.py); ReDoc would need a CDN.
        docs_url=None,
        redoc_url=None,
        # The insurance private network has no collector, and per-request spans cost the
        # settlement hot path dearly: OpenTelemetry stays off.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.platform = platform
    app.state.analytics_url = analytics_url
    app.state.on_start = []
    app.state.on_stop = []

    @app.exception_handler(YibaoError)
    async def _yibao_error(request: Request, exc: YibaoError) -> Response:
        await _audit_refusal(platform, request, exc)
        if exc.status_code == 403 and _is_page(request):
            # a signed-in user on a page its role may not open: a page, not JSON
            return HTMLResponse(
                _REFUSED_PAGE.format(message=html.escape(exc.message)),
                status_code=403,
                headers={"Cache-Control": "no-store"},
            )
        return JSONResponse(
            {"error": exc.code, "message": exc.message}, status_code=exc.status_code
        )

    async def _driver_error(request: Request, exc: Exception) -> Response:
        # Registered by class (not under the catch-all, which Starlette re-raises to the
        # server's log): a row store that is down, frozen or full is 503 "retry", logged once
        # per interval; any other driver error stays a bug.
        down = faults.unavailable(exc)
        if down is None:
            return await _unexpected(request, exc)
        faults.report("console", exc)
        return JSONResponse({"error": down.code, "message": down.message}, status_code=503)

    for driver_error in faults.DRIVER_ERRORS:
        app.add_exception_handler(driver_error, _driver_error)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            {"error": "internal", "message": "系统内部错误 (internal error; see the server log)"},
            status_code=500,
        )

    app.add_middleware(SecurityHeaders)
    app.add_middleware(_RequestId)
    mounts = _mounters()
    if analytics_url is not None:
        # a gateway beside an analytics process passes the analytics APIs on to it instead of
        # serving the replica itself
        proxy = analytics_proxy.mounter(analytics_url)
        mounts = [proxy if mount is analytics.mount else mount for mount in mounts]
    for mount in mounts:
        mount(app, platform)
    gateway = getattr(app.state, "nhsa_gateway", None)
    if gateway is not None:
        app._fast = gateway
        app._fast_prefixes = tuple(f"{prefix}/" for prefix in nhsa.PREFIXES)
    return app
