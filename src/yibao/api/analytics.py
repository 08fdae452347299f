"""The analytics edge: the analytics JSON API, the replica operations API and the T+0
dashboard page (HTTP only: the use cases are `yibao.interface.analytics`; the replica's
lifecycle is the platform's, `serve_replica` at start and `stop_replica` at stop).

- `GET /api/v1/analytics` — the query catalogue (name, 中文 title, parameters)
- `GET /api/v1/analytics/dashboard` — every dashboard panel from one snapshot
- `GET /api/v1/analytics/position` — the replica's seq and lag (cheap; the page polls it)
- `GET /api/v1/analytics/{name}?date_from=…&date_to=…&consistency=strong|bounded&max_lag_ms=`
  — one named query; answers `{seq, lag_rows, lag_ms, consistency, data}`
- `GET /api/v1/replica/status`, `POST /api/v1/replica/rebuild`, `POST /api/v1/replica/verify`
  — for `yibao replica …` while the server owns the DuckDB file (header
  `X-Yibao-Replica-Token` from `<data_dir>/replica.lock`, or an admin session)
- `POST /api/v1/risk/runs` — a post-hoc monitoring run on the replica (`{since?, until?,
  categories?}` → the run's summary; permission `risk.run`, or the lock file's token for
  `yibao risk run`; docs/monitoring.md)
- `GET /dashboard` — the page (signed in; else a redirect to `/login?next=/dashboard`)

Analytic endpoints are signed-in only. Amounts are JSON strings with two decimals (exact).
"""

from __future__ import annotations

import html
from decimal import Decimal
from importlib import resources
from pathlib import Path
from string import Template
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from yibao.api.console import portraits
from yibao.api.console.deps import (
    CSRF_COOKIE,
    AnalyticsReader,
    Permit,
    _bearer,
    _cookie,
    current_user,
)
from yibao.errors import Forbidden, InvalidInput
from yibao.interface import analytics
from yibao.interface import risk as risk_runs
from yibao.interface.console.auth import User
from yibao.runtime import Platform

WEB = resources.files("yibao.web")
#: the permission each route checks, published in the OpenAPI (docs/console.md)
_READS = {"x-permission": "analytics.read"}
_REPLICA = {"x-permission": "replica.operate"}
_RISK_RUN = {"x-permission": "risk.run"}


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


class Json(JSONResponse):
    """JSON with exact decimals (as strings) and ISO dates."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_default, option=orjson.OPT_NON_STR_KEYS)


def mount(app: FastAPI, platform: Platform) -> None:
    # The replica's lifecycle belongs to the platform; the edge only ties it to the server's.
    app.state.on_start.append(platform.serve_replica)
    app.state.on_stop.append(platform.stop_replica)
    # the portraits read the replica: served with the analytics (pages stay with the console)
    app.include_router(portraits.router)
    mount_page(app)

    def replica_operator(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        cookie: Annotated[str | None, Depends(_cookie)],
    ) -> str:
        if analytics.is_local_operator(platform, request.headers.get(analytics.TOKEN_HEADER)):
            return "local"
        user: User = Permit("replica.operate")(request, current_user(request, bearer, cookie))
        return user.username

    # -- analytics -------------------------------------------------------------------------

    @app.get(
        "/api/v1/analytics", tags=["分析 analytics"], summary="分析查询目录", openapi_extra=_READS
    )
    def catalogue(_user: AnalyticsReader) -> Json:
        return Json(analytics.catalogue(platform))

    @app.get(
        "/api/v1/analytics/dashboard",
        tags=["分析 analytics"],
        summary="T+0 看板数据",
        openapi_extra=_READS,
    )
    def dashboard_data(
        _user: AnalyticsReader,
        day: Annotated[str | None, Query(description="yyyy-MM-dd; default today")] = None,
        consistency: str = analytics.STRONG,
        max_lag_ms: Annotated[
            int,
            Query(ge=0, le=60_000, description="bounded: serve a shared answer at most this old"),
        ] = 1000,
    ) -> Json:
        return Json(
            analytics.dashboard(platform, day=day, consistency=consistency, max_lag_ms=max_lag_ms)
        )

    @app.get(
        "/api/v1/analytics/position",
        tags=["分析 analytics"],
        summary="副本位置与延迟",
        openapi_extra=_READS,
    )
    def position(_user: AnalyticsReader) -> Json:
        return Json(analytics.position(platform))

    @app.get(
        "/api/v1/analytics/{name}",
        tags=["分析 analytics"],
        summary="命名分析查询",
        openapi_extra=_READS,
    )
    def run_query(name: str, request: Request, _user: AnalyticsReader) -> Json:
        return Json(analytics.run_query(platform, name, dict(request.query_params)))

    # -- post-hoc monitoring ---------------------------------------------------------------

    def risk_runner(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        cookie: Annotated[str | None, Depends(_cookie)],
    ) -> str:
        if analytics.is_local_operator(platform, request.headers.get(analytics.TOKEN_HEADER)):
            return "cli"
        Permit("risk.run")(request, current_user(request, bearer, cookie))
        return "console"

    @app.post(
        "/api/v1/risk/runs",
        tags=["事后监控 post-hoc monitoring"],
        summary="发起事后监控（同步, 返回汇总）",
        openapi_extra=_RISK_RUN,
    )
    async def risk_run(request: Request, who: str = Depends(risk_runner)) -> Json:
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            raise InvalidInput("body: 不是合法的 JSON (not valid JSON)") from None
        return Json(await run_in_threadpool(risk_runs.run_now, platform, body, run_by=who))

    # -- replica operations ----------------------------------------------------------------

    @app.get(
        "/api/v1/replica/status", tags=["副本 replica"], summary="副本状态", openapi_extra=_REPLICA
    )
    def replica_status(_who: str = Depends(replica_operator)) -> Json:
        return Json(analytics.replica_status(platform))

    @app.post(
        "/api/v1/replica/rebuild",
        tags=["副本 replica"],
        summary="重建副本（后台）",
        openapi_extra=_REPLICA,
    )
    def replica_rebuild(_who: str = Depends(replica_operator), source: str = "auto") -> Json:
        return Json(analytics.rebuild_replica(platform, source))

    @app.post(
        "/api/v1/replica/verify",
        tags=["副本 replica"],
        summary="核对副本与行存储",
        openapi_extra=_REPLICA,
    )
    def replica_verify(_who: str = Depends(replica_operator)) -> Json:
        return Json(analytics.verify_replica(platform))

    @app.post("/api/v1/replica/export", include_in_schema=False)
    def replica_export(
        request: Request,
        table: str,
        out: str,
        since: str | None = None,
        until: str | None = None,
    ) -> Json:
        # Writes files on this machine: only the data directory's operator (the lock file's
        # token, `yibao export parquet`) may ask, never a console session.
        if not analytics.is_local_operator(platform, request.headers.get(analytics.TOKEN_HEADER)):
            raise Forbidden("仅本机运维命令可导出 (only `yibao export parquet` on this machine)")
        return Json(
            analytics.export_parquet(platform, table=table, out=out, since=since, until=until)
        )

    @app.post("/api/v1/replica/backup", include_in_schema=False)
    def replica_backup(request: Request, out: str) -> Json:
        # Writes a file on this machine: only `yibao backup` on it (the lock file's token).
        if not analytics.is_local_operator(platform, request.headers.get(analytics.TOKEN_HEADER)):
            raise Forbidden("仅本机运维命令可备份 (only `yibao backup` on this machine)")
        return Json(analytics.backup_replica(platform, out=out))


def mount_page(app: FastAPI) -> None:
    """The dashboard page and its static assets (no analytics: the page asks the API)."""
    app.mount("/static", StaticFiles(directory=str(Path(str(WEB)) / "static")), name="static")
    icon = (WEB / "static" / "favicon.svg").read_bytes()

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        # browsers ask for it on every page (the login page too): answer instead of a 404
        return Response(
            icon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )

    page = Template((WEB / "templates" / "dashboard.html").read_text(encoding="utf-8"))

    @app.get("/dashboard", include_in_schema=False)
    def dashboard_page(request: Request, user: AnalyticsReader) -> HTMLResponse:
        return HTMLResponse(
            page.substitute(
                user=html.escape(user.display_name or user.username),
                csrf=html.escape(request.cookies.get(CSRF_COOKIE, ""), quote=True),
            ),
            headers={"Cache-Control": "no-store"},
        )


__all__ = ["mount", "mount_page"]
