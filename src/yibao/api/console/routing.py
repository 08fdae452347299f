"""The console's route class: request-validation failures become 400 `{error, message}`
naming the field, like every other console error (instead of FastAPI's 422 `{detail}`), and
the permission a route checks (`deps.Permit`) is published in the OpenAPI as `x-permission`.
Scoped to the console's routers; other edges keep their own handling.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute


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

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except RequestValidationError as exc:
                return JSONResponse(
                    {"error": "invalid_input", "message": describe(exc)}, status_code=400
                )

        return handler
