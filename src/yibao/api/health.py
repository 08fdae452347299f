"""Liveness and the load driver's trivial endpoint."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from yibao import __version__
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

    @app.get("/bench/ping", include_in_schema=False)
    async def ping() -> Response:
        # The load driver measures its own ceiling against this (no work, no I/O).
        return Response(b'{"infcode":0}', media_type="application/json")
