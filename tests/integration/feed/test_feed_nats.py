"""The change feed against a NATS JetStream server this test starts itself (never the shared one).

Every change-log record reaches the stream once, in order, keyed by its seq; the position is
resumed from the stream after a publisher restart and after NATS itself was down; personal
numbers never reach the stream.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from yibao.config import Settings
from yibao.feed.publisher import FeedPublisher
from yibao.feed.service import open_feed
from yibao.runtime import Platform
from yibao.storage import changelog

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    def __init__(self, store: Path) -> None:
        self.port = _free_port()
        self.store = store
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    assert Path(NATS_SERVER).exists(), "nats-server is needed (Debian package nats-server)"
    server = NatsServer(tmp_path / "jetstream")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _pseudonym(psn_no: str) -> str:
    return "ref-" + str(abs(hash(("k", psn_no))) % 10**12)


def _append(engine: Engine, n: int, start: int = 0) -> None:
    with engine.begin() as conn:
        changelog.append_many(
            conn,
            [
                (
                    "setl" if i % 2 else "psn",
                    f"S{start + i}" if i % 2 else f"1120240000{start + i:010d}",
                    {"psn_no": f"1120240000{start + i:010d}", "medfee_sumamt": 100 + i},
                    "upsert",
                )
                for i in range(n)
            ],
        )


def _stream_messages(
    url: str, stream: str = "YIBAO_CHANGES"
) -> list[tuple[str, dict[str, Any], str]]:
    async def read() -> list[tuple[str, dict[str, Any], str]]:
        import nats

        nc = await nats.connect(url, connect_timeout=3)
        try:
            js = nc.jetstream()
            info = await js.stream_info(stream)
            out = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await js.get_msg(stream, seq)
                headers = msg.headers or {}
                out.append((msg.subject, orjson.loads(msg.data or b"{}"), headers["Nats-Msg-Id"]))
            return out
        finally:
            await nc.close()

    return asyncio.run(read())


def _feed(settings: Settings, engine: Engine, url: str) -> FeedPublisher:
    feed = open_feed(
        settings.model_copy(update={"feed_url": url, "feed_batch": 7}), engine, _pseudonym
    )
    assert feed is not None
    return feed


def test_no_feed_without_a_url(settings: Settings, engine: Engine) -> None:
    assert open_feed(settings, engine, _pseudonym) is None


def test_every_change_once_in_order_pseudonymous(
    settings: Settings, engine: Engine, nats_server: NatsServer
) -> None:
    _append(engine, 40)
    feed = _feed(settings, engine, nats_server.url)
    feed.start()
    try:
        assert feed.wait_published(40, timeout=20), feed.status.as_dict()
    finally:
        feed.stop()
    messages = _stream_messages(nats_server.url)
    assert [int(m[2]) for m in messages] == list(range(1, 41))
    assert {m[0] for m in messages} == {"yibao.changes.setl", "yibao.changes.psn"}
    for subject, body, msg_id in messages:
        assert body["seq"] == int(msg_id)
        assert "psn_no" not in body["data"]
        assert body["data"]["psn_ref"].startswith("ref-")
        if subject.endswith(".psn"):
            assert body["key"].startswith("ref-")
    raw = b"".join(orjson.dumps(m[1]) for m in messages)
    assert b"1120240000" not in raw  # no person number in clear anywhere


def test_restart_resumes_from_the_stream_without_duplicates(
    settings: Settings, engine: Engine, nats_server: NatsServer
) -> None:
    _append(engine, 10)
    first = _feed(settings, engine, nats_server.url)
    first.start()
    assert first.wait_published(10, timeout=20)
    first.stop()
    _append(engine, 15, start=10)
    second = _feed(settings, engine, nats_server.url)
    second.start()
    try:
        assert second.wait_published(25, timeout=20)
    finally:
        second.stop()
    ids = [int(m[2]) for m in _stream_messages(nats_server.url)]
    assert ids == list(range(1, 26))


def test_nats_outage_makes_the_feed_lag_then_catch_up(
    settings: Settings, engine: Engine, nats_server: NatsServer
) -> None:
    _append(engine, 5)
    feed = _feed(settings, engine, nats_server.url)
    feed.start()
    try:
        assert feed.wait_published(5, timeout=20)
        nats_server.stop()
        _append(engine, 12, start=5)  # the row store keeps committing while NATS is down
        deadline = time.monotonic() + 10
        while feed.status.as_dict()["connected"] and time.monotonic() < deadline:
            time.sleep(0.05)
        status = feed.status.as_dict()
        assert status["connected"] is False and status["last_error"]
        assert status["published_seq"] == 5
        nats_server.start()  # same port, same store
        assert feed.wait_published(17, timeout=30), feed.status.as_dict()
    finally:
        feed.stop()
    ids = [int(m[2]) for m in _stream_messages(nats_server.url)]
    assert ids == list(range(1, 18))


def test_an_unreachable_broker_never_raises(settings: Settings, engine: Engine) -> None:
    _append(engine, 3)
    feed = _feed(settings, engine, f"nats://user:secret@127.0.0.1:{_free_port()}")
    feed.start()
    try:
        deadline = time.monotonic() + 10
        while feed.status.as_dict()["errors_total"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        status = feed.status.as_dict()
    finally:
        feed.stop()
    assert status["published_seq"] == 0 and status["errors_total"] >= 1
    assert "secret" not in str(status) and "user" not in status["url"]


def test_the_published_position_is_read_back_from_the_stream(
    settings: Settings, engine: Engine, nats_server: NatsServer
) -> None:
    from yibao.feed.publisher import published_position

    assert published_position(nats_server.url, "YIBAO_CHANGES") == 0  # no stream yet
    _append(engine, 9)
    feed = _feed(settings, engine, nats_server.url)
    feed.start()
    try:
        assert feed.wait_published(9, timeout=20)
    finally:
        feed.stop()
    assert published_position(nats_server.url, "YIBAO_CHANGES") == 9
    with pytest.raises(Exception):  # noqa: B017 — any failure to reach the broker raises
        published_position(f"nats://127.0.0.1:{_free_port()}", "YIBAO_CHANGES", timeout_s=0.5)


def test_the_process_serving_the_replica_runs_the_feed_with_its_pseudonyms(
    platform: Platform, nats_server: NatsServer
) -> None:
    from yibao.replica.pseudonym import Pseudonyms

    platform.settings = platform.settings.model_copy(update={"feed_url": nats_server.url})
    _append(platform.db.engine, 4)
    platform.serve_replica()
    try:
        assert platform.feed is not None
        assert platform.feed.wait_published(4, timeout=20), platform.feed.status.as_dict()
    finally:
        platform.stop_replica()
    assert platform.feed is None
    refs = Pseudonyms.for_dir(platform.settings.data_dir)
    bodies = [m[1] for m in _stream_messages(nats_server.url)]
    assert [b["data"]["psn_ref"] for b in bodies] == [
        refs.ref(f"1120240000{i:010d}") for i in range(4)
    ]
