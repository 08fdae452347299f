"""`GET /healthz` and `GET /readyz` (issue 22): alive is no I/O; ready names every failed check
(row store, migrations, replica applier alive and within its lag limit, the analytics
process answering) and answers 503."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from settle_factories import register_input
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from yibao.api.app import create_app
from yibao.config import Settings
from yibao.replica import heartbeat
from yibao.runtime import Platform


@pytest.fixture
async def client(world: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    yield world["client"]


def _beat(data_dir: Path, *, applied: int, at_ms: int | None = None, running: bool = True) -> None:
    heartbeat.write(data_dir, applied_seq=applied, running=running, error=None)
    if at_ms is not None:  # an old beat: rewrite its time
        path = heartbeat.path(data_dir)
        path.write_text(path.read_text().replace('"at_ms": ', f'"at_ms": {at_ms}, "old": '))


def _latest_seq(platform: Platform) -> int:
    with platform.db.read() as conn:
        return int(conn.execute(text("SELECT coalesce(max(seq), 0) FROM change_log")).scalar_one())


async def test_healthz_is_alive_without_io(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.headers["x-request-id"]


async def test_not_ready_without_a_replica_applier(client: httpx.AsyncClient) -> None:
    answer = await client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not_ready"
    assert body["failed"] == ["replica"]
    assert body["checks"]["row_store"]["ok"] is True
    assert body["checks"]["migrations"]["ok"] is True
    assert "no replica applier" in body["checks"]["replica"]["reason"]


async def test_ready_with_the_replica_served_here(world: dict[str, Any]) -> None:
    platform: Platform = world["platform"]
    await world["his"].ok("2201", register_input(world["people"]["emp"]))
    platform.serve_replica()
    try:
        assert platform.replica is not None
        platform.replica.applier.catch_up()
        answer = await world["client"].get("/readyz")
        assert answer.status_code == 200, answer.text
        replica = answer.json()["checks"]["replica"]
        assert replica["process"] == "this process"
        assert replica["lag_rows"] == 0
        assert replica["applied_seq"] == _latest_seq(platform) > 0
        # the applier stopping makes the process not ready
        platform.replica.applier.stop()
        answer = await world["client"].get("/readyz")
        assert answer.status_code == 503
        assert "applier stopped" in answer.json()["checks"]["replica"]["reason"]
    finally:
        platform.stop_replica()


async def test_replica_in_another_process_by_its_heartbeat(world: dict[str, Any]) -> None:
    platform: Platform = world["platform"]
    data_dir = platform.settings.data_dir
    client = world["client"]
    await world["his"].ok("2201", register_input(world["people"]["emp"]))
    latest = _latest_seq(platform)
    assert latest > 0

    _beat(data_dir, applied=latest)
    answer = await client.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.json()["checks"]["replica"]["process"].startswith("pid ")

    # a beat from a process that stopped beating: not alive
    _beat(data_dir, applied=latest, at_ms=int(time.time() * 1000) - heartbeat.STALE_MS - 1000)
    answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert "last beat" in answer.json()["checks"]["replica"]["reason"]

    # alive, but behind by more than the limit
    _beat(data_dir, applied=0)
    strict = platform.settings.model_copy(update={"ready_max_lag_ms": 0})
    platform.settings = strict
    time.sleep(0.005)  # the oldest unapplied change is at least this old
    answer = await client.get("/readyz")
    assert answer.status_code == 503
    replica = answer.json()["checks"]["replica"]
    assert replica["lag_rows"] == latest
    assert replica["lag_ms"] > 0
    assert "behind" in replica["reason"]


async def test_not_ready_when_the_schema_is_old(world: dict[str, Any]) -> None:
    platform: Platform = world["platform"]
    heartbeat.write(platform.settings.data_dir, applied_seq=0, running=True, error=None)
    with platform.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'old0'"))
    answer = await world["client"].get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"]["current"] == "old0"
    assert "yibao db upgrade" in body["checks"]["migrations"]["reason"]


async def test_not_ready_when_the_row_store_is_unreachable(
    settings: Settings, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings, platform=platform)

    @contextmanager
    def broken() -> Any:
        raise OperationalError("SELECT 1", {}, OSError("unable to open database file"))
        yield  # pragma: no cover

    monkeypatch.setattr(platform.db, "read", broken)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/healthz")).status_code == 200
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failed"] == ["row_store", "migrations", "replica"]
    assert "unable to open database file" in body["checks"]["row_store"]["reason"]


class _Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"status": "ok", "pid": 4242}).encode()
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


class _Stranger(_Healthz):
    """Some other program on the analytics port: 200, but not yibao's /healthz."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "5")
        self.end_headers()
        self.wfile.write(b"hello")


async def _ready_beside(settings: Settings, platform: Platform, handler: type) -> httpx.Response:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        app = create_app(settings, platform=platform, analytics_url=url)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/readyz")
    finally:
        server.shutdown()
        server.server_close()


async def test_a_gateway_is_not_ready_until_its_analytics_process_answers(
    world: dict[str, Any], settings: Settings, platform: Platform
) -> None:
    # the analytics process beats before its port listens (the CI failure of stop 41): a
    # fresh beat and a silent port is not ready
    await world["his"].ok("2201", register_input(world["people"]["emp"]))
    _beat(platform.settings.data_dir, applied=_latest_seq(platform))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        silent = probe.getsockname()[1]  # bound, never listening: connections are refused
        app = create_app(settings, platform=platform, analytics_url=f"http://127.0.0.1:{silent}")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answer = await client.get("/readyz")
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["failed"] == ["analytics"]
    assert "does not answer" in body["checks"]["analytics"]["reason"]

    answer = await _ready_beside(settings, platform, _Stranger)
    assert answer.status_code == 503, answer.text
    assert "not as yibao's /healthz" in answer.json()["checks"]["analytics"]["reason"]

    answer = await _ready_beside(settings, platform, _Healthz)
    assert answer.status_code == 200, answer.text
    assert answer.json()["checks"]["analytics"] == {"ok": True, "pid": 4242}
