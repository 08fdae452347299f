"""The analytic side of the driver: signing in, dashboard viewers (interference) and the
visibility poller (freshness), over the same raw keep-alive HTTP client as the flows."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from yibao.bench.http import HttpError, RawConnection
from yibao.errors import YibaoError
from yibao.kit import clock

LOGIN_PATH = "/api/v1/auth/login"
DASHBOARD_PATH = "/api/v1/analytics/dashboard"
#: the staleness bound the dashboard page asks for (web/static/dashboard.js)
PAGE_BOUND_MS = 500
POSITION_PATH = "/api/v1/analytics/position"
#: probes of the freshness poller: what it asks and which seq of the answer it reads
PROBES = ("summary", "position")
CONSISTENCIES = ("bounded", "strong")
#: bounded reads with this staleness bound never wait: they show the replica as it is
NO_WAIT_MS = 3_600_000


class BenchHttpError(YibaoError):
    """The server refused a step of the driver's set-up (e.g. the sign-in)."""


async def login(url: str, agency: dict[str, Any] | None) -> dict[str, str]:
    """Sign in as the fixtures' agency user; the Authorization header for analytic calls."""
    if not agency:
        raise BenchHttpError(
            "演示数据中没有 agency 账号 (demo-fixtures.json has no 'agency' user: rerun `yibao demo`)"
        )
    conn = RawConnection(url)
    try:
        body = orjson.dumps({"username": agency["username"], "password": agency["password"]})
        status, raw = await conn.request("POST", LOGIN_PATH, body)
    except (OSError, HttpError) as exc:
        raise BenchHttpError(
            f"无法连接服务 {url} (cannot reach the server under test: {exc})"
        ) from None
    finally:
        await conn.close()
    if status != 200:
        raise BenchHttpError(f"登录失败 HTTP {status}: {raw[:200]!r} (sign-in of the agency user)")
    token = orjson.loads(raw)["access_token"]
    return {"Authorization": f"Bearer {token}"}


def probe_path(probe: str, consistency: str) -> str:
    """The freshness probe's request. `summary`: today's summary (a real analytic answer)
    with its `seq`; `position`: the replica's applied seq (what any bounded read sees now)."""
    if probe == "position":
        return POSITION_PATH
    day = clock.now().date().isoformat()
    lag = f"&max_lag_ms={NO_WAIT_MS}" if consistency == "bounded" else ""
    return f"/api/v1/analytics/summary?date_from={day}&date_to={day}&consistency={consistency}{lag}"


@dataclass
class Polls:
    """(wall-clock seconds the answer arrived, the seq it reflects), in arrival order."""

    at: list[float] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message[:300])


async def poll_visibility(
    url: str,
    headers: dict[str, str],
    path: str,
    polls: Polls,
    stop: asyncio.Event,
    *,
    interval_s: float,
) -> None:
    """Ask `path` again and again (one connection, `interval_s` between answers) until
    `stop`; record when each answer arrived and its seq."""
    conn = RawConnection(url)
    try:
        while not stop.is_set():
            start = time.perf_counter()
            try:
                status, raw = await conn.request("GET", path, None, headers)
                arrived = time.time()
                answer = orjson.loads(raw)
            except (OSError, HttpError, ValueError) as exc:
                polls.error(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(0.05)
                continue
            if status != 200 or not isinstance(answer, dict) or "seq" not in answer:
                polls.error(f"HTTP {status}: {raw[:200]!r}")
                await asyncio.sleep(0.05)
                continue
            polls.latencies.append(time.perf_counter() - start)
            polls.at.append(arrived)
            polls.seq.append(int(answer["seq"]))
            if interval_s > 0:
                await asyncio.sleep(interval_s)
    finally:
        await conn.close()


@dataclass
class ViewerStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)


async def dashboard_viewer(
    url: str,
    headers: dict[str, str],
    stats: ViewerStats,
    deadline: float,
    *,
    period_s: float = 1.0,
    offset_s: float = 0.0,
    consistency: str = "bounded",
) -> None:
    """One person watching the dashboard: the full dashboard every `period_s` (at once when a
    refresh took longer), until `deadline` (perf_counter). Bounded by default, exactly as the
    page asks (`web/static/dashboard.js`: one shared answer at most 500 ms old); strong
    computes a fresh dashboard for every refresh."""
    path = (
        DASHBOARD_PATH
        if consistency == "strong"
        else f"{DASHBOARD_PATH}?consistency={consistency}&max_lag_ms={PAGE_BOUND_MS}"
    )
    conn = RawConnection(url)
    await asyncio.sleep(offset_s)
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                status, raw = await conn.request("GET", path, None, headers)
            except (OSError, HttpError) as exc:
                status, raw = -1, f"{type(exc).__name__}: {exc}".encode()
            elapsed = time.perf_counter() - start
            if status == 200:
                stats.latencies.append(elapsed)
            else:
                stats.errors += 1
                if len(stats.error_samples) < 5:
                    stats.error_samples.append(f"HTTP {status}: {raw[:200]!r}")
            await asyncio.sleep(max(0.0, period_s - elapsed))
    finally:
        await conn.close()
