"""Running load: many virtual clients on one asyncio loop, and the driver's own ceiling."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from dataclasses import dataclass

from yibao.bench.fixtures import Fixtures
from yibao.bench.flows import SETTLE_INFNOS, Admissions, Session
from yibao.bench.http import ClientFactory
from yibao.bench.params import LoadParams
from yibao.bench.stats import Recorder, summary_ms


@dataclass
class LoadResult:
    recorder: Recorder
    seconds: float
    flows_started: int
    flows_done: int

    @property
    def calls_per_s(self) -> float:
        return self.recorder.calls / self.seconds if self.seconds > 0 else 0.0

    @property
    def settlements(self) -> int:
        return self.recorder.count(*SETTLE_INFNOS)

    @property
    def settlements_per_s(self) -> float:
        return self.settlements / self.seconds if self.seconds > 0 else 0.0


async def run_load(
    params: LoadParams,
    fixtures: Fixtures,
    *,
    duration: float | None = None,
    admissions: Admissions | None = None,
    settled: list[tuple[str, float]] | None = None,
) -> LoadResult:
    """Drive the flows for `duration` seconds (default params.duration); a flow in progress at
    the deadline completes, but its calls after the deadline are not counted. `admissions`:
    persons not to admit (shared by the clients); `settled`: filled with (setl_id, arrival)."""
    shared = admissions if admissions is not None else Admissions()
    seconds = params.duration if duration is None else duration
    factory = ClientFactory(params.client, params.url, params.concurrency)
    recorder = Recorder()
    names = list(params.mix)
    weights = [params.mix[n] for n in names]
    started = itertools.count()
    done = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    pacing = 1.0 / params.rate if params.rate > 0 else 0.0

    async def client(i: int) -> None:
        nonlocal done
        conn = factory.connection()
        session = Session(
            conn,
            fixtures,
            recorder,
            random.Random(f"{params.seed}:{i}"),
            reversal_rate=params.reversal_rate,
            auth=params.auth,
            admissions=shared,
            settled=settled,
        )
        try:
            while True:
                k = next(started)
                if pacing:
                    slot = t0 + k * pacing
                    wait = slot - time.perf_counter()
                    if wait > 0:
                        await asyncio.sleep(wait)
                if time.perf_counter() >= deadline:
                    return
                flow = session.rng.choices(names, weights)[0]
                if await getattr(session, flow)():
                    done += 1
        finally:
            await conn.close()

    # calls finishing after the deadline are not counted: snapshot the recorder at the deadline
    tasks = [asyncio.create_task(client(i)) for i in range(params.concurrency)]
    await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
    snapshot = _snapshot(recorder)
    elapsed = time.perf_counter() - t0
    await asyncio.gather(*tasks, return_exceptions=True)
    await factory.aclose()
    return LoadResult(snapshot, elapsed, next(started), done)


def _snapshot(rec: Recorder) -> Recorder:
    return Recorder(
        latencies={k: list(v) for k, v in rec.latencies.items()},
        errors=dict(rec.errors),
        error_samples=list(rec.error_samples),
        played=dict(rec.played),
    )


async def ping_ceiling(params: LoadParams, seconds: float) -> dict[str, object]:
    """The driver's own ceiling: GET /bench/ping (no work on the server) with the same clients."""
    factory = ClientFactory(params.client, params.url, params.concurrency)
    latencies: list[float] = []
    errors = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds

    async def client() -> None:
        nonlocal errors
        conn = factory.connection()
        try:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    status, _ = await conn.request("GET", "/bench/ping")
                except OSError:
                    errors += 1
                    await asyncio.sleep(0.05)
                    continue
                if status == 200:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors += 1
        finally:
            await conn.close()

    await asyncio.gather(*(client() for _ in range(params.concurrency)))
    elapsed = time.perf_counter() - t0
    await factory.aclose()
    return {
        "calls_per_s": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "latency_ms": summary_ms(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
    }
