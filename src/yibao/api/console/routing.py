"""The console's route class: request-validation failures become 400 `{error, message}`
naming the field, like every other console error (instead of FastAPI's 422 `{detail}`).
Scoped to the console's routers; other edges keep their own handling.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
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


class ConsoleRoute(APIRoute):
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
