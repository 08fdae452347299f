"""A bare ASGI app under uvicorn as `yibao serve` runs it (httptools, uvloop): reads the body,
answers a fixed 1.4 KB JSON. The floor of uvicorn's request path (see run.sh)."""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

BODY = b'{"infcode":0,"output":"' + b"x" * 1400 + b'"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        http="httptools",
        loop="uvloop",
        access_log=False,
        log_level="warning",
        server_header=False,
    )
