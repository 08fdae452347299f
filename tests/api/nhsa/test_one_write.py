"""Under uvicorn's httptools protocol the gateway writes each answer (head and body) to the
socket in one write: the same HTTP as before — keep-alive, `connection: close`, several
answers on one connection."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest
import uvicorn

from yibao.api.app import create_app
from yibao.api.nhsa import gateway as gw
from yibao.runtime import Platform

PATH = "/fsi/api/rsfComIfsService/callService"


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return f"extra:{name}"


def test_gather_writes_once_flushes_before_close_and_never_after() -> None:
    real = _Transport()
    gather = gw._Gather(real)
    gather.write(b"head")
    gather.write(b"body")
    assert real.writes == []
    assert gather.get_extra_info("peername") == "extra:peername"  # the rest is the real one's
    gather.flush()
    assert real.writes == [b"headbody"]
    gather.write(b"last")
    gather.close()
    assert real.writes == [b"headbody", b"last"] and real.closed
    gather.write(b"late")
    gather.flush()  # a closed connection gets nothing more
    assert real.writes == [b"headbody", b"last"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read_answer(sock: socket.socket, buf: bytearray) -> tuple[bytes, dict[str, Any]]:
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before an answer"
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk
        rest += chunk
    buf[:] = rest[length:]
    return head, json.loads(rest[:length])


@pytest.fixture
def served(platform: Platform) -> Any:
    port = _free_port()
    config = uvicorn.Config(
        create_app(platform.settings, platform=platform),
        host="127.0.0.1",
        port=port,
        http="httptools",
        loop="asyncio",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(timeout=20)


def test_answers_on_a_real_httptools_server(served: int, monkeypatch: pytest.MonkeyPatch) -> None:
    flushed: list[int] = []
    real_flush = gw._Gather.flush

    def counting(self: gw._Gather) -> None:
        flushed.append(len(self.chunks))
        real_flush(self)

    monkeypatch.setattr(gw._Gather, "flush", counting)
    request = (
        f"POST {PATH} HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n"
        "content-length: 2\r\n{close}\r\nxx"
    )
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        buf = bytearray()
        for _ in range(2):  # two answers on one keep-alive connection
            sock.sendall(request.format(close="").encode())
            head, answer = _read_answer(sock, buf)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"content-type: application/json;charset=utf-8" in head
            assert b"connection: close" not in head
            assert answer["infcode"] == -1 and "JSON" in answer["err_msg"]
        sock.sendall(request.format(close="connection: close\r\n").encode())
        head, answer = _read_answer(sock, buf)
        assert b"connection: close" in head
        assert answer["infcode"] == -1
        assert sock.recv(1) == b""  # and the server closed it
    # each answer's head + body gathered into one write (the closing one flushed by close)
    assert [n for n in flushed if n] == [2, 2, 2]
