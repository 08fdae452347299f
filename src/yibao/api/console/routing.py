"""The console's route class: request-validation failures become 400 `{error, message}`
naming the field, like every other console error (instead of FastAPI's 422 `{detail}`), and
the permission a route checks (`deps.Permit`) is published in the OpenAPI as `x-permission`.
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

import orjson
from fastapi import HTTPException, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from yibao.errors import YibaoError
from yibao.interface.console import audit

log = logging.getLogger(__name__)

#: reads answered with these are refused attempts, audited like writes
_REFUSED = frozenset({401, 403, 404})
#: routes whose answers hold person-level data: every read is audited, with how many records
#: it showed and the stated purpose (query parameter `purpose`) when one was given
_PERSONAL = ("/api/v1/persons", "/api/v1/settlements")
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


def permission_of(dependant: Dependant) -> str | None:
    """The permission a route's dependencies check (`deps.Permit`), if any."""
    for dep in dependant.dependencies:
        found = getattr(dep.call, "permission", None)
        if isinstance(found, str):
            return found
        nested = permission_of(dep)
        if nested is not None:
            return nested
    return None


def publish_permission(route: APIRoute) -> None:
    permission = permission_of(route.dependant)
    if permission is not None:
        route.openapi_extra = {**(route.openapi_extra or {}), "x-permission": permission}


class ConsoleRoute(APIRoute):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        publish_permission(self)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        route = self.path

        async def handler(request: Request) -> Response:
            status = 500
            shown: int | None = None
            try:
                response = await original(request)
                status = response.status_code
                if route.startswith(_PERSONAL) and status < 300:
                    shown = _records(response)
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
                await _record(request, route, status, shown)

        return handler


def _records(response: Response) -> int | None:
    """How many records a JSON answer shows: its `items`, a list's length, or one."""
    body = getattr(response, "body", None)
    if not isinstance(body, bytes) or not body:
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return len(data["items"])
    return len(data) if isinstance(data, list) else 1


async def _record(request: Request, route: str, status: int, shown: int | None) -> None:
    """Put the request on the audit trail when it is an action, a refused read or a read of
    personal data."""
    personal = route.startswith(_PERSONAL)
    if route in _OWN_RECORDS:
        return
    if request.method in _READS and status not in _REFUSED and not personal:
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
            purpose=request.query_params.get("purpose"),
            records=shown,
            # which filters a read used, never their values (a certno, a name)
            query=sorted(set(request.query_params) - {"purpose"}) if personal else None,
        )
    except Exception as exc:  # the answer stands; a trail that cannot be written is logged
        log.warning("console: could not audit %s %s: %s", request.method, route, exc)
