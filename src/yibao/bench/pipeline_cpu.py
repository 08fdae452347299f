"""The call pipeline's CPU per call, measured in one process: the benchmark's own flows played
through `interface.pipeline.CallPipeline` as the gateway runs it (its writer thread, group
commit, row cache, review), without HTTP, a driver process or an applier beside it.

`yibao bench settle` measures the server as a whole, but on a 2-vCPU VM whose speed drifts by
±10–20 % from minute to minute its legs cannot resolve a change of a few per cent (docs/bench.md).
This plays a fixed workload — the same number of flows, the same seed, the same mix — and reads
the process's CPU time around it — in total, and per chunk of 50 flows, whose lower quartile
leaves out the VM's slow bursts (`quiet_cpu_ms_per_call`) — so that two checkouts run one
after another, a few times each, compare the work each does per call:

    python -m yibao.bench.pipeline_cpu DATA_DIR [--flows 400] [--concurrency 16] [--persons 600]

DATA_DIR is a fresh `yibao init` + `yibao demo` directory no server is using (the flows write
to it). Prints one JSON object: calls, errors, CPU ms per call (the process: event loop and
writer), calls per infno and the wall time. `bench/scripts/ab_pipeline.sh` alternates two
checkouts (it runs this file from this checkout against the other one's sources, so the file
uses nothing newer than the benchmark's flows).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import itertools
import json
import random
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yibao.api import nhsa
from yibao.bench import cast, store
from yibao.bench.fixtures import Fixtures, load_fixtures
from yibao.bench.flows import Admissions, Session
from yibao.bench.params import DEFAULT_MIX
from yibao.bench.stats import Recorder
from yibao.config import load_settings
from yibao.interface.pipeline import CallPipeline
from yibao.interface.signature import read_headers
from yibao.kit import collector
from yibao.runtime import open_platform


class DirectConnection:
    """What a session's HTTP connection does, done by a direct call of the pipeline."""

    def __init__(self, pipeline: CallPipeline) -> None:
        self.pipeline = pipeline

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        got = read_headers(
            [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
            + [(b"content-type", b"application/json")]
        )
        answer = await self.pipeline.handle(
            body or b"", got.paasid, got.key, signed=got.signed, content_type=got.content_type
        )
        return 200, answer.payload

    async def close(self) -> None:
        return None


async def _play(
    pipeline: CallPipeline,
    fixtures: Fixtures,
    flows: int,
    concurrency: int,
    seed: int,
    marks: list[tuple[float, int]] | None = None,
    chunk: int = 50,
) -> Recorder:
    """Play `flows` flows over `concurrency` sessions; every `chunk` flows finished, append
    (the process's CPU seconds, the calls answered so far) to `marks`."""
    recorder = Recorder()
    admissions = Admissions()
    names = list(DEFAULT_MIX)
    weights = [DEFAULT_MIX[n] for n in names]
    left = flows
    done = 0
    if marks is not None:
        marks.append((time.process_time(), 0))

    async def client(i: int) -> None:
        nonlocal left, done
        session = Session(
            DirectConnection(pipeline),  # type: ignore[arg-type]  # duck-typed connection
            fixtures,
            recorder,
            random.Random(f"{seed}:{i}"),
            reversal_rate=0.05,
            admissions=admissions,
        )
        while left > 0:
            left -= 1
            await getattr(session, session.rng.choices(names, weights)[0])()
            done += 1
            if marks is not None and done % chunk == 0:
                marks.append((time.process_time(), recorder.calls))

    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return recorder


def _quiet(marks: list[tuple[float, int]]) -> float | None:
    """The lower quartile of the chunks' CPU ms per call. This VM's speed drops by up to half
    in bursts of a few seconds (a fixed loop measured every 25 ms: 21 ms most of the time,
    up to 46 ms in a burst); a chunk caught in one costs more, so the quiet chunks, the lower
    quartile, say what the code costs."""
    per = [
        (c1 - c0) * 1000 / (n1 - n0) for (c0, n0), (c1, n1) in itertools.pairwise(marks) if n1 > n0
    ]
    if len(per) < 4:
        return None
    return statistics.quantiles(per, n=4)[0]


def _with_cast(fixtures: Fixtures, data_dir: Path, persons: int, seed: int) -> Fixtures:
    """Persons of the run's own and ordinary items, as `yibao bench settle` plays them."""
    engine = store.row_store(data_dir)
    try:
        restricted = store.restricted_codes(engine, (i["code"] for i in fixtures.catalog_items))
        enrolled = cast.enrol(engine, persons)
    finally:
        engine.dispose()
    items = [i for i in fixtures.catalog_items if i["code"] not in restricted]
    return dataclasses.replace(
        fixtures,
        catalog_items=items or fixtures.catalog_items,
        cast=cast.Cast(enrolled, random.Random(seed)),
    )


def run(data_dir: Path, *, flows: int, concurrency: int, persons: int, seed: int) -> dict[str, Any]:
    settings = load_settings(data_dir=data_dir)
    # the serving process's interpreter-lock switch interval (the gateway's mount sets it)
    if sys.getswitchinterval() > nhsa.SWITCH_INTERVAL:
        sys.setswitchinterval(nhsa.SWITCH_INTERVAL)
    fixtures = _with_cast(load_fixtures(data_dir), data_dir, persons, seed)
    platform = open_platform(settings)
    platform.db.writer.start()
    pipeline = CallPipeline(platform)

    async def main() -> tuple[Recorder, Recorder, float, float]:
        pipeline.start()
        try:
            # warm up: the caches, the compiled statements and the catalog a server holds
            warm = await _play(pipeline, fixtures, max(10, flows // 10), concurrency, seed + 1)
            collector.freeze_startup_heap()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            measured = await _play(pipeline, fixtures, flows, concurrency, seed, marks)
            return warm, measured, time.process_time() - cpu0, time.perf_counter() - wall0
        finally:
            pipeline.stop()

    marks: list[tuple[float, int]] = []
    thresholds = gc.get_threshold()
    try:
        warm, rec, cpu, wall = asyncio.run(main())
    finally:
        pipeline.close()
        platform.close()
        # the collector as it was: the serving settings (`freeze_startup_heap`) were for the
        # measured flows only, not for whatever this process does next (a test suite)
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    calls = rec.calls
    return {
        "calls": calls,
        "errors": rec.error_count,
        "error_samples": rec.error_samples[:3],
        "warm_up_errors": warm.error_count,
        "cpu_ms_per_call": round(cpu * 1000 / calls, 4) if calls else None,
        "quiet_cpu_ms_per_call": None if (q := _quiet(marks)) is None else round(q, 4),
        "wall_s": round(wall, 2),
        "flows_played": dict(sorted(rec.played.items())),
        "calls_by_infno": {k: len(v) for k, v in sorted(rec.latencies.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m yibao.bench.pipeline_cpu",
        description="The call pipeline's CPU per call in this process (a fixed workload: the "
        "benchmark's flows without HTTP). DATA_DIR: a fresh `yibao init` + `yibao demo` "
        "directory no server is using.",
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--flows", type=int, default=400, help="flows measured (default 400)")
    parser.add_argument("--concurrency", type=int, default=16, help="sessions at once (16)")
    parser.add_argument("--persons", type=int, default=600, help="persons enrolled (600)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.flows < 1 or args.concurrency < 1 or args.persons < 1:
        parser.error("--flows, --concurrency and --persons must be at least 1")
    result = run(
        args.data_dir,
        flows=args.flows,
        concurrency=args.concurrency,
        persons=args.persons,
        seed=args.seed,
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
