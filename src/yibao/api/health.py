"""Liveness, readiness, metrics and the load driver's trivial endpoint (docs/operations.md).

- `GET /healthz` — the process is alive (no I/O): 200 ``{"status": "ok"}``
- `GET /readyz` — ready to serve: row store reachable, migrations current, replica applier
  alive and within `YIBAO_READY_MAX_LAG_MS`, and (beside an analytics process) that process
  answering; 200 when ready, 503 naming the failed checks
- `GET /metrics` — Prometheus text format (every gateway process's values when several run)
- `GET /health` — status and write counters (kept for existing clients)
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from yibao import __version__
from yibao.interface.readiness import readiness
from yibao.obs import metrics
from yibao.runtime import Platform


def mount(app: FastAPI, platform: Platform) -> None:
    @app.get("/health", tags=["ops"], summary="服务状态 (liveness and write counters)")
    def health() -> dict[str, object]:
        writer = platform.db.writer
        return {
            "status": "ok",
            "version": __version__,
            "backend": platform.db.backend.name,
            "backend_version": platform.db.backend.version,
            "writer": {"commits": writer.commits, "jobs": writer.jobs},
        }

    @app.get("/healthz", tags=["ops"], summary="存活 (liveness: the process answers)")
    async def healthz() -> dict[str, object]:
        return {"status": "ok", "pid": os.getpid(), "version": __version__}

    # the analytics process this gateway passes the analytics APIs to (`create_app`), if any
    analytics_url: str | None = getattr(app.state, "analytics_url", None)

    # /readyz answers 503 by design and /metrics is not JSON: probes and scrapers, not the
    # console API's schema (docs/operations.md lists them)
    @app.get(
        "/readyz",
        include_in_schema=False,
        tags=["ops"],
        summary="就绪 (readiness: row store, migrations, replica applier and lag)",
        responses={503: {"description": "not ready; the body names the failed checks"}},
    )
    async def readyz() -> JSONResponse:
        ready, checks = await run_in_threadpool(readiness, platform, analytics_url)
        body = {
            "status": "ready" if ready else "not_ready",
            "failed": [name for name, check in checks.items() if not check["ok"]],
            "checks": checks,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get(
        "/metrics", include_in_schema=False, tags=["ops"], summary="指标 (Prometheus text format)"
    )
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)

    @app.get("/bench/ping", include_in_schema=False)
    async def ping() -> Response:
        # The load driver measures its own ceiling against this (no work, no I/O).
        return Response(b'{"infcode":0}', media_type="application/json")
