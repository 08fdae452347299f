"""The scenarios of `yibao bench`: each returns its result as a dict (printed and written
as JSON by the CLI). Figures always come with the machine and the parameters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yibao.bench import raw_commit
from yibao.bench.fixtures import load_fixtures
from yibao.bench.machine import machine
from yibao.bench.params import LoadParams
from yibao.bench.runner import ping_ceiling, run_load
from yibao.bench.stats import summary_ms

Progress = Callable[[str], None]


def _ratio(value: float, base: float | None) -> float | None:
    return round(value / base, 3) if base else None


def run_raw_commit(directory: Path, seconds: float) -> dict[str, Any]:
    result = raw_commit.measure(directory, seconds)
    return {
        "scenario": "raw-commit",
        "commits_per_s": result["commits_per_s"],
        "latency_ms": result["latency_ms"],
        "machine": machine(),
        "params": {
            "duration_s": seconds,
            "journal_mode": "WAL",
            "synchronous": "FULL",
            "transaction": "BEGIN IMMEDIATE; INSERT setl-like row; INSERT change-log-like row; COMMIT",
            "directory": result["filesystem_dir"],
        },
        "commits": result["commits"],
    }


def run_settle(
    params: LoadParams,
    data_dir: Path,
    *,
    raw_commit_seconds: float = 3.0,
    progress: Progress = lambda _m: None,
) -> dict[str, Any]:
    """Settlement throughput and latency through the national interface, closed loop (or at
    `--rate`), with the driver's own ceiling measured first against /bench/ping."""
    fixtures = load_fixtures(data_dir)
    base: float | None = None
    if raw_commit_seconds > 0:
        progress(f"raw-commit yardstick ({raw_commit_seconds:g} s) …")
        base = raw_commit.measure(data_dir, raw_commit_seconds)["commits_per_s"]
    ceiling: dict[str, Any] = {}
    if params.ceiling_seconds > 0:
        progress(f"driver ceiling against GET /bench/ping ({params.ceiling_seconds:g} s) …")
        ceiling = asyncio.run(ping_ceiling(params, params.ceiling_seconds))
    progress(f"settlement load ({params.duration:g} s, {params.concurrency} clients) …")
    load = asyncio.run(run_load(params, fixtures))
    rec = load.recorder
    calls_per_s = round(load.calls_per_s, 1)
    settlements_per_s = round(load.settlements_per_s, 1)
    ceiling_cps = ceiling.get("calls_per_s")
    return {
        "scenario": "settle",
        "calls_per_s": calls_per_s,
        "settlements_per_s": settlements_per_s,
        "latency_ms": summary_ms(rec.all_latencies()),
        "errors": rec.error_count,
        "error_samples": rec.error_samples,
        "driver_ceiling_calls_per_s": ceiling_cps,
        "driver_ceiling": ceiling,
        "driver_limited": bool(ceiling_cps and calls_per_s > 0.5 * float(ceiling_cps)),
        "raw_commit_commits_per_s": base,
        "ratios_to_raw_commit": {
            "calls_per_s": _ratio(calls_per_s, base),
            "settlements_per_s": _ratio(settlements_per_s, base),
        },
        "per_transaction": rec.per_transaction(load.seconds),
        "calls": rec.calls,
        "settlements": load.settlements,
        "flows_completed": load.flows_done,
        "seconds": round(load.seconds, 2),
        "machine": machine(),
        "params": {**params.as_dict(), "data_dir": str(data_dir)},
    }


def not_yet(scenario: str, needs: str) -> dict[str, Any]:
    """A scenario whose server side has not landed: says so instead of inventing a figure."""
    return {
        "scenario": scenario,
        "measured": False,
        "reason": needs,
        "machine": machine(),
    }
