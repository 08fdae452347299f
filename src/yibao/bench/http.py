"""Two HTTP/1.1 clients for the driver, chosen with `--client`:

- `raw` (default): a minimal asyncio client, one keep-alive connection per virtual client,
  requests written as prebuilt bytes, responses read by Content-Length (or chunked). It does
  as little as possible per call so that the driver, which shares the machine with the server
  under test, spends its CPU share on the server's behalf as little as it can.
- `httpx`: httpx.AsyncClient with a keep-alive pool, for comparison.

Both expose `await client.request(method, path, body, headers) -> (status, body_bytes)`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

CLIENTS = ("raw", "httpx")


class HttpError(Exception):
    pass


class RawConnection:
    """One keep-alive HTTP/1.1 connection (reconnects once when the server closed it)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ValueError("--url: 仅支持 http:// (raw client speaks plain HTTP/1.1)")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.base = parts.path.rstrip("/")
        self._host_header = f"{self.host}:{self.port}".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
            self._writer = None

    def _build(
        self, method: str, path: str, body: bytes | None, headers: Mapping[str, str] | None
    ) -> bytes:
        lines = [f"{method} {self.base}{path} HTTP/1.1".encode(), b"Host: " + self._host_header]
        if body is not None:
            lines.append(b"Content-Type: application/json")
            lines.append(b"Content-Length: " + str(len(body)).encode())
        if headers:
            for k, v in headers.items():
                lines.append(f"{k}: {v}".encode())
        return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        data = self._build(method, path, body, headers)
        for attempt in (1, 2):
            if self._writer is None:
                await self._connect()
            assert self._reader is not None and self._writer is not None
            try:
                self._writer.write(data)
                return await self._read()
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _read(self) -> tuple[int, bytes]:
        assert self._reader is not None
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, _, rest = head.partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length = -1
        chunked = False
        close = False
        for line in rest.split(b"\r\n"):
            name, _, value = line.partition(b":")
            lname = name.strip().lower()
            if lname == b"content-length":
                length = int(value.strip())
            elif lname == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif lname == b"connection" and value.strip().lower() == b"close":
                close = True
        if chunked:
            body = await self._read_chunked()
        elif length >= 0:
            body = await self._reader.readexactly(length)
        else:
            body = await self._reader.read()
            close = True
        if close:
            await self.close()
        return status, body

    async def _read_chunked(self) -> bytes:
        assert self._reader is not None
        parts: list[bytes] = []
        while True:
            size_line = await self._reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)


class HttpxConnection:
    """The same interface over a shared httpx.AsyncClient."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        hdrs = dict(headers or {})
        if body is not None:
            hdrs["content-type"] = "application/json"
        resp = await self._client.request(method, path, content=body, headers=hdrs)
        return resp.status_code, resp.content

    async def close(self) -> None:
        return None


class ClientFactory:
    """Makes one connection per virtual client (raw) or shares one pool (httpx)."""

    def __init__(self, kind: str, url: str, concurrency: int) -> None:
        if kind not in CLIENTS:
            raise ValueError(f"--client: 未知 '{kind}' (allowed: {', '.join(CLIENTS)})")
        self.kind = kind
        self.url = url
        self._httpx: httpx.AsyncClient | None = None
        if kind == "httpx":
            self._httpx = httpx.AsyncClient(
                base_url=url,
                limits=httpx.Limits(
                    max_connections=concurrency, max_keepalive_connections=concurrency
                ),
                timeout=httpx.Timeout(60.0),
            )

    def connection(self) -> RawConnection | HttpxConnection:
        if self._httpx is not None:
            return HttpxConnection(self._httpx)
        return RawConnection(self.url)

    async def aclose(self) -> None:
        if self._httpx is not None:
            await self._httpx.aclose()
