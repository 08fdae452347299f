"""The same answer from a bare `asyncio.Protocol` on httptools and uvloop, one task a request:
what HTTP costs without an ASGI server around it (see run.sh)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import httptools
import uvloop

BODY = b'{"infcode":0,"output":"' + b"x" * 1400 + b'"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


class Bare(asyncio.Protocol):
    def connection_made(self, transport: Any) -> None:  # uvloop's, not an asyncio.Transport
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)
        self.body: list[bytes] = []

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.body = []
        asyncio.get_running_loop().create_task(self.answer())

    async def answer(self) -> None:
        self.transport.write(RESPONSE)


async def main(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Bare, "127.0.0.1", port)
    await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
