"""The analytics edge of a gateway process when the analytics run in their own process
(`yibao serve`, docs/operations.md): the dashboard page is served here, and every request to
the analytics, replica and portrait APIs (`/api/v1/analytics…`, `/api/v1/replica/…`,
`/api/v1/portraits/…`) is passed on to
the analytics process as it came (method, path, query, body, the caller's credentials) and
its answer passed back. The analytics process checks the credentials itself.

While the analytics process is down (it is restarted by `serve`), these requests answer 503
``analytics_unavailable`` at once; settlement is not affected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from yibao.api.analytics import mount_page
from yibao.obs import logs
from yibao.runtime import Platform

log = logging.getLogger(__name__)

#: request headers not passed on (hop-by-hop, or set by the client library)
_DROP_REQUEST = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "upgrade",
        "x-request-id",
    }
)
_DROP_RESPONSE = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "content-encoding",
        "x-request-id",
    }
)
#: a dashboard query may take a while; the analytics process answers its own timeouts
TIMEOUT = httpx.Timeout(120.0, connect=2.0)

UNAVAILABLE = (
    "分析服务暂不可用, 正在重启, 请稍后重试 (the analytics process is not answering; "
    "`yibao serve` restarts it — retry shortly)"
)


def mounter(url: str) -> Callable[[FastAPI, Platform], None]:
    """A `Mounter` that proxies the analytics APIs to the analytics process at `url`."""

    def mount(app: FastAPI, _platform: Platform) -> None:
        mount_page(app)
        client = httpx.AsyncClient(base_url=url, timeout=TIMEOUT)

        async def close() -> None:
            await client.aclose()

        app.router.on_shutdown.append(close)

        async def forward(request: Request) -> Response:
            headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROP_REQUEST]
            headers.append(("x-forwarded-for", request.client.host if request.client else ""))
            headers.append(("x-request-id", logs.request_id.get()))  # one id in both logs
            try:
                answer = await client.request(
                    request.method,
                    request.url.path,
                    params=request.url.query or None,
                    content=await request.body(),
                    headers=headers,
                )
            except httpx.HTTPError as exc:
                log.warning("analytics proxy: %s: %s", type(exc).__name__, exc)
                return JSONResponse(
                    {"error": "analytics_unavailable", "message": UNAVAILABLE}, status_code=503
                )
            passed = {k: v for k, v in answer.headers.items() if k.lower() not in _DROP_RESPONSE}
            return Response(answer.content, status_code=answer.status_code, headers=passed)

        for path in ("/api/v1/analytics", "/api/v1/analytics/{rest:path}"):
            app.add_api_route(path, forward, methods=["GET"], include_in_schema=False)
        app.add_api_route(
            "/api/v1/replica/{rest:path}", forward, methods=["GET", "POST"], include_in_schema=False
        )
        # post-hoc runs read the replica: the analytics process owns it
        app.add_api_route("/api/v1/risk/runs", forward, methods=["POST"], include_in_schema=False)
        # the portraits read the replica too (docs/portraits.md)
        app.add_api_route(
            "/api/v1/portraits/{rest:path}", forward, methods=["GET"], include_in_schema=False
        )

    return mount
