"""The analytics edge: the replica's lifecycle in the server, the analytics JSON API, the
replica operations API and the T+0 dashboard page.

- `GET /api/v1/analytics` — the query catalogue (name, 中文 title, parameters)
- `GET /api/v1/analytics/dashboard` — every dashboard panel from one snapshot
- `GET /api/v1/analytics/position` — the replica's seq and lag (cheap; the page polls it)
- `GET /api/v1/analytics/{name}?date_from=…&date_to=…&consistency=strong|bounded&max_lag_ms=`
  — one named query; answers `{seq, lag_rows, lag_ms, consistency, data}`
- `GET /api/v1/replica/status`, `POST /api/v1/replica/rebuild`, `POST /api/v1/replica/verify`
  — for `yibao replica …` while the server owns the DuckDB file (header
  `X-Yibao-Replica-Token` from `<data_dir>/replica.lock`, or an admin session)
- `GET /dashboard` — the page (signed in; else a redirect to `/login?next=/dashboard`)

Analytic endpoints are signed-in only. Amounts are JSON strings with two decimals (exact).
"""

from __future__ import annotations

import html
import logging
import secrets
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

from yibao.analytics.registry import registry
from yibao.analytics.service import Analytics
from yibao.analytics.shared import SharedDashboard
from yibao.api.console.deps import CurrentUser, _bearer, _cookie, current_user
from yibao.errors import Forbidden, InvalidInput
from yibao.kit import clock
from yibao.replica import tiflash
from yibao.replica.lock import TOKEN_HEADER, OwnerLock
from yibao.replica.service import BOUNDED, STRONG, Replica, ReplicaUnavailable
from yibao.replica.verify import verify as verify_replica
from yibao.runtime import Platform
from yibao.users.service import User

log = logging.getLogger(__name__)

WEB = resources.files("yibao.web")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


class Json(JSONResponse):
    """JSON with exact decimals (as strings) and ISO dates."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_default, option=orjson.OPT_NON_STR_KEYS)


class _State:
    """What the edge holds between start and stop."""

    def __init__(self) -> None:
        self.replica: Replica | None = None
        self.tiflash: tiflash.TiFlashReplica | None = None
        self.analytics: Analytics | None = None
        #: the dashboard answer shared by every viewer (bounded-staleness reads)
        self.dashboard: SharedDashboard | None = None
        self.lock: OwnerLock | None = None

    def need_analytics(self) -> Analytics:
        if self.analytics is None:
            raise ReplicaUnavailable(
                "分析副本未启用 (analytics are not served by this process: the replica is "
                "disabled or another process owns it)"
            )
        return self.analytics


def _start(state: _State, platform: Platform) -> None:
    settings = platform.settings
    if platform.db.backend.is_tidb:
        state.tiflash = tiflash.TiFlashReplica(settings)
        try:
            state.tiflash.ensure_replicas()
        except Exception as exc:  # a TiDB without TiFlash nodes: analytics fall back to TiKV
            log.warning("TiFlash replicas not set (%s); analytic reads use TiKV", exc)
        state.analytics = Analytics(rowstore=state.tiflash.engine, tiflash=state.tiflash)
        state.dashboard = SharedDashboard(state.analytics)
    elif settings.replica_enabled:
        lock = OwnerLock(settings.data_dir)
        if not lock.acquire():
            log.error(
                "replica: %s is held by another process; analytics are not served here",
                lock.path,
            )
            return
        state.lock = lock
        lock.publish(f"http://{settings.host}:{settings.port}")
        state.replica = Replica.open(settings, lock=lock)
        state.replica.start(platform.db.writer)
        state.analytics = Analytics(rowstore=state.replica.source, replica=state.replica)
        state.dashboard = SharedDashboard(state.analytics)
    platform.replica = state.replica
    platform.tiflash = state.tiflash
    platform.analytics = state.analytics


def _stop(state: _State, platform: Platform) -> None:
    platform.replica = platform.tiflash = platform.analytics = None
    if state.replica is not None:
        state.replica.close()  # also releases the lock
        state.replica = None
    elif state.lock is not None:
        state.lock.release()
    if state.tiflash is not None:
        state.tiflash.close()
        state.tiflash = None
    state.analytics = None
    state.dashboard = None


def _params(request: Request) -> tuple[dict[str, Any], str, int]:
    params = dict(request.query_params)
    consistency = params.pop("consistency", STRONG)
    if consistency not in (STRONG, BOUNDED):
        raise InvalidInput("consistency: 应为 strong 或 bounded (strong | bounded)")
    raw_lag = params.pop("max_lag_ms", "1000")
    try:
        max_lag_ms = int(raw_lag)
    except ValueError:
        raise InvalidInput(f"max_lag_ms: 应为整数毫秒 (integer ms): {raw_lag}") from None
    return params, consistency, max(0, max_lag_ms)


def mount(app: FastAPI, platform: Platform) -> None:
    state = _State()
    app.state.on_start.append(lambda: _start(state, platform))
    app.state.on_stop.append(lambda: _stop(state, platform))
    app.mount("/static", StaticFiles(directory=str(Path(str(WEB)) / "static")), name="static")

    def replica_operator(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        cookie: Annotated[str | None, Depends(_cookie)],
    ) -> str:
        token = request.headers.get(TOKEN_HEADER)
        if token and state.lock is not None and secrets.compare_digest(token, state.lock.token):
            return "local"
        user: User = current_user(request, bearer, cookie)
        if user.role != "admin":
            raise Forbidden(f"仅管理员可操作副本 (admin only; your role is '{user.role}')")
        return user.username

    # -- analytics -------------------------------------------------------------------------

    @app.get("/api/v1/analytics", tags=["分析 analytics"], summary="分析查询目录")
    def catalogue(_user: CurrentUser) -> Json:
        return Json(
            {
                "engine": state.analytics.engine_name if state.analytics else "none",
                "queries": [
                    {
                        "name": q.name,
                        "title": q.title,
                        "params": [
                            {"name": p.name, "title": p.title, "kind": p.kind} for p in q.params
                        ],
                    }
                    for q in registry().values()
                ],
            }
        )

    @app.get("/api/v1/analytics/dashboard", tags=["分析 analytics"], summary="T+0 看板数据")
    def dashboard_data(
        _user: CurrentUser,
        day: Annotated[str | None, Query(description="yyyy-MM-dd; default today")] = None,
        consistency: str = STRONG,
        max_lag_ms: Annotated[
            int,
            Query(ge=0, le=60_000, description="bounded: serve a shared answer at most this old"),
        ] = 1000,
    ) -> Json:
        state.need_analytics()
        if consistency not in (STRONG, BOUNDED):
            raise InvalidInput("consistency: 应为 strong 或 bounded (strong | bounded)")
        try:
            when = clock.parse_date(day) if day else None
        except ValueError:
            raise InvalidInput(f"day: 日期格式应为 yyyy-MM-dd: {day}") from None
        assert state.dashboard is not None
        return Json(
            state.dashboard.get(when, consistency=consistency, max_lag_ms=max_lag_ms).envelope()
        )

    @app.get("/api/v1/analytics/position", tags=["分析 analytics"], summary="副本位置与延迟")
    def position(_user: CurrentUser) -> Json:
        return Json(state.need_analytics().position())

    @app.get("/api/v1/analytics/{name}", tags=["分析 analytics"], summary="命名分析查询")
    def run_query(name: str, request: Request, _user: CurrentUser) -> Json:
        analytics = state.need_analytics()
        params, consistency, max_lag_ms = _params(request)
        answer = analytics.run_on_replica(
            name, params, consistency=consistency, max_lag_ms=max_lag_ms
        )
        return Json(answer.envelope())

    # -- replica operations ----------------------------------------------------------------

    def need_replica() -> Replica:
        if state.replica is None:
            if state.tiflash is not None:
                raise ReplicaUnavailable(
                    "TiDB 上由 TiFlash 承担副本 (on TiDB the replica is TiFlash)"
                )
            raise ReplicaUnavailable("分析副本未启用 (the replica is not running in this process)")
        return state.replica

    @app.get("/api/v1/replica/status", tags=["副本 replica"], summary="副本状态")
    def replica_status(_who: str = Depends(replica_operator)) -> Json:
        if state.tiflash is not None:
            return Json(state.tiflash.status())
        return Json(need_replica().status())

    @app.post("/api/v1/replica/rebuild", tags=["副本 replica"], summary="重建副本（后台）")
    def replica_rebuild(_who: str = Depends(replica_operator), source: str = "auto") -> Json:
        if source not in ("auto", "log", "tables"):
            raise InvalidInput("source: 应为 auto、log 或 tables")
        if state.tiflash is not None:
            return Json({"started": True, "ddl": state.tiflash.ensure_replicas()})
        replica = need_replica()
        started = replica.rebuild_async(source)
        return Json({"started": started, "status": replica.status()})

    @app.post("/api/v1/replica/verify", tags=["副本 replica"], summary="核对副本与行存储")
    def replica_verify(_who: str = Depends(replica_operator)) -> Json:
        replica = need_replica()
        report = verify_replica(
            replica.store, replica.source, lambda target: replica.applier.wait_for(target)
        )
        return Json(report.as_dict())

    # -- the page --------------------------------------------------------------------------

    icon = (WEB / "static" / "favicon.svg").read_bytes()

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        # browsers ask for it on every page (the login page too): answer instead of a 404
        return Response(
            icon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )

    page = Template((WEB / "templates" / "dashboard.html").read_text(encoding="utf-8"))

    @app.get("/dashboard", include_in_schema=False)
    def dashboard_page(user: CurrentUser) -> HTMLResponse:
        return HTMLResponse(
            page.substitute(user=html.escape(user.display_name or user.username)),
            headers={"Cache-Control": "no-store"},
        )


__all__ = ["mount"]
