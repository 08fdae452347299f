"""The national-interface endpoint: one lean ASGI callable for every transaction.

Transport only: read the body once (at most `MAX_BODY` bytes), take the credential, signature
and content-type headers (`interface.signature.read_headers`), hand them to the call pipeline (`yibao.interface.pipeline.CallPipeline`) and write its answer —
always HTTP 200, also for a refusal or a bug (the pipeline answers those with `infcode: -1`).
No routing, no pydantic, no dependency injection on this path.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from yibao.interface.pipeline import JSON_HEADERS, MAX_BODY, NO_SIGNATURE, Answer, CallPipeline
from yibao.interface.signature import Signed, read_headers
from yibao.kit import jsonx
from yibao.obs import logs
from yibao.runtime import Platform

log = logging.getLogger(__name__)

#: the answer when the pipeline itself failed to answer (a bug, logged): still an envelope
#: with HTTP 200, never a 500 (design.md §4), and built from nothing the client sent
UNANSWERED = jsonx.dumps(
    {
        "infcode": -1,
        "inf_refmsgid": None,
        "refmsg_time": None,
        "respond_time": None,
        "err_msg": "系统内部错误 (internal error; the server log has the details)",
        "warn_msg": None,
        "cainfo": None,
        "signtype": None,
        "enctype": None,
        "output": None,
    }
)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


try:  # the server's own HTTP protocol, when it is uvicorn's httptools one (see __call__)
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle as _HTTPTOOLS_CYCLE
except ImportError:  # pragma: no cover - uvicorn[standard] is a dependency
    _HTTPTOOLS_CYCLE = None  # type: ignore[assignment,misc]


class _Gather:
    """Stands in for a connection's transport while one response is sent: keeps the writes
    and hands them to the real transport in one `write` (`flush`, or before a close)."""

    __slots__ = ("chunks", "real")

    def __init__(self, real: Any) -> None:
        self.real = real
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.chunks.append(data)

    def flush(self) -> None:
        if self.chunks:
            data = b"".join(self.chunks)
            self.chunks.clear()
            if not self.real.is_closing():
                self.real.write(data)

    def close(self) -> None:
        self.flush()
        self.real.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class Gateway:
    """The ASGI app mounted under the national-interface paths."""

    def __init__(self, platform: Platform) -> None:
        self.pipeline = CallPipeline(platform)

    def start(self) -> None:
        self.pipeline.start()

    def stop(self) -> None:
        self.pipeline.stop()

    def close(self) -> None:
        self.pipeline.close()

    async def handle(
        self,
        body: bytes,
        paasid: str | None,
        secret: str | None,
        *,
        too_big: bool = False,
        signed: Signed = NO_SIGNATURE,
        content_type: str | None = None,
    ) -> Answer:
        return await self.pipeline.handle(
            body, paasid, secret, too_big=too_big, signed=signed, content_type=content_type
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body, too_big = await self._body(receive)
        got = read_headers(scope["headers"])
        # every log line of this call carries its request id (obs.logs); the client gets it back
        rid = logs.new_request_id()
        token = logs.request_id.set(rid)
        try:
            payload, headers = await self.pipeline.handle(
                body,
                got.paasid,
                got.key,
                too_big=too_big,
                signed=got.signed,
                content_type=got.content_type,
            )
        except Exception:
            log.exception("nhsa transport: the call pipeline raised instead of answering")
            payload, headers = UNANSWERED, JSON_HEADERS
        finally:
            logs.request_id.reset(token)
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                *headers,
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", rid.encode()),
            ],
        }
        reply = {"type": "http.response.body", "body": payload}
        cycle = getattr(send, "__self__", None)
        if _HTTPTOOLS_CYCLE is None or type(cycle) is not _HTTPTOOLS_CYCLE:
            await send(start)
            await send(reply)
            return
        # uvicorn (httptools) writes the head and the body of a response with a system call
        # each, and each wakes the client; a small answer costs less written once. Its writes
        # of this one response are gathered and written once (the same bytes; uvicorn still
        # does all the HTTP: status, headers, keep-alive).
        real = cycle.transport
        gather = _Gather(real)
        cycle.transport = gather  # type: ignore[assignment]  # duck-typed: write, close
        try:
            await send(start)
            await send(reply)
        finally:
            cycle.transport = real
            gather.flush()

    @staticmethod
    async def _body(receive: Receive) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_BODY:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), size > MAX_BODY
