"""The console's route class: request-validation failures become 400 `{error, message}`
naming the field, like every other console error (instead of FastAPI's 422 `{detail}`).
Scoped to the console's routers; other edges keep their own handling.

Every console action is on the audit trail (docs/audit.md): each write request (POST, PUT,
PATCH, DELETE) and each refused read (401, 403, 404) is recorded as `console.<method>` with the
route, its path parameters, the answer's status, the user (or "-"), role, tenant and address —
beside the record the use case itself writes about what it changed. Sign-in and sign-out have
their own records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from yibao.errors import YibaoError
from yibao.interface.console import audit

log = logging.getLogger(__name__)

#: reads answered with these are refused attempts, audited like writes
_REFUSED = frozenset({401, 403, 404})
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
#: audited by the sign-in use cases themselves
_OWN_RECORDS = ("/api/v1/auth/login", "/api/v1/auth/logout")


def describe(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        where = ".".join(loc) or "body"
        parts.append(f"{where}: 格式错误 ({err.get('msg', 'invalid')})")
    return "; ".join(parts) or "请求格式错误 (malformed request)"


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        route = self.path

        async def handler(request: Request) -> Response:
            status = 500
            try:
                response = await original(request)
                status = response.status_code
                return response
            except RequestValidationError as exc:
                status = 400
                return JSONResponse(
                    {"error": "invalid_input", "message": describe(exc)}, status_code=400
                )
            except (YibaoError, HTTPException) as exc:
                status = exc.status_code
                raise
            finally:
                await _record(request, route, status)

        return handler


async def _record(request: Request, route: str, status: int) -> None:
    """Put the request on the audit trail when it is an action or a refused read."""
    if route in _OWN_RECORDS or (request.method in _READS and status not in _REFUSED):
        return
    if status >= 500:  # nothing happened, and the row store is likely what failed
        return
    platform = getattr(request.app.state, "platform", None)
    if platform is None:
        return
    try:
        await audit.record_request(
            platform,
            getattr(request.state, "user", None),
            method=request.method,
            route=route,
            params=dict(request.path_params),
            status=status,
            address=request.client.host if request.client else None,
        )
    except Exception as exc:  # the answer stands; a trail that cannot be written is logged
        log.warning("console: could not audit %s %s: %s", request.method, route, exc)
