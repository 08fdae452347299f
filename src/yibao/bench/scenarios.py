"""The scenarios of `yibao bench`: each returns its result as a dict (printed and written
as JSON by the CLI). Figures always come with the machine and the parameters."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from yibao.bench import cast, offline, raw_commit, review, store
from yibao.bench.fixtures import Fixtures, load_fixtures
from yibao.bench.flows import Admissions, Session, reset_admissions
from yibao.bench.http import ClientFactory
from yibao.bench.machine import machine
from yibao.bench.params import LoadParams
from yibao.bench.runner import LoadResult, ping_ceiling, run_load
from yibao.bench.stats import Recorder, loss_pct, mix_report, summary_ms, visibility_lags
from yibao.bench.viewers import (
    Polls,
    ViewerStats,
    dashboard_viewer,
    login,
    poll_visibility,
    probe_path,
)
from yibao.errors import ConfigError

Progress = Callable[[str], None]


def _ratio(value: float, base: float | None) -> float | None:
    return round(value / base, 3) if base else None


def run_review(directory: Path, runs: int) -> dict[str, Any]:
    """The time real-time review adds to one call (in process; `bench.review`)."""
    result = review.measure(directory, runs=runs)
    return {**result, "machine": machine()}


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
    fixtures = _with_cast(params, load_fixtures(data_dir), data_dir, progress)
    if fixtures.cast is None:
        admissions, reset = _reset_admissions(params, fixtures, data_dir, progress)
    else:  # the run's own persons have no admission open
        admissions, reset = Admissions(), {"open": 0, "closed": 0, "failed": 0}
    base: float | None = None
    if raw_commit_seconds > 0:
        progress(f"raw-commit yardstick ({raw_commit_seconds:g} s) …")
        base = raw_commit.measure(data_dir, raw_commit_seconds)["commits_per_s"]
    ceiling: dict[str, Any] = {}
    if params.ceiling_seconds > 0:
        progress(f"driver ceiling against GET /bench/ping ({params.ceiling_seconds:g} s) …")
        ceiling = asyncio.run(ping_ceiling(params, params.ceiling_seconds))
    progress(f"settlement load ({params.duration:g} s, {params.concurrency} clients) …")
    load = asyncio.run(run_load(params, fixtures, admissions=admissions))
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
        "mix": mix_report(params.mix, rec.played),
        "reset": reset,
        "calls": rec.calls,
        "settlements": load.settlements,
        "flows_completed": load.flows_done,
        "seconds": round(load.seconds, 2),
        "machine": machine(),
        "params": {**params.as_dict(), "data_dir": str(data_dir)},
    }


def _with_cast(
    params: LoadParams, fixtures: Fixtures, data_dir: Path, progress: Progress
) -> Fixtures:
    """The fixtures with the persons this run enrols for itself (`bench.cast`; none with
    `--persons 0`), and without the catalog items whose use is restricted: the driver plays
    the ordinary bills of ordinary persons, whatever earlier runs did."""
    if params.persons == 0:
        return fixtures
    engine = store.row_store(data_dir)
    try:
        restricted = store.restricted_codes(engine, (i["code"] for i in fixtures.catalog_items))
        items = [i for i in fixtures.catalog_items if i["code"] not in restricted]
        progress(f"enrolling {params.persons:,} persons for this run …")
        persons = cast.enrol(engine, params.persons)
    finally:
        engine.dispose()
    return dataclasses.replace(
        fixtures,
        catalog_items=items or fixtures.catalog_items,
        cast=cast.Cast(persons, random.Random(params.seed)),
    )


def _reset_admissions(
    params: LoadParams, fixtures: Fixtures, data_dir: Path, progress: Progress
) -> tuple[Admissions, dict[str, int]]:
    """Give the run the persons it plays: the admissions earlier runs left open (an error after
    2401, a 2305 reversal) are closed through the interface first — 2405 then 2404, as a HIS
    undoes them — so that inpatient flows find persons to admit run after run instead of
    silently turning into outpatient visits. Those that cannot be closed are skipped."""
    try:
        engine = store.row_store(data_dir)
        try:
            visits = store.open_admission_visits(engine, (p["psn_no"] for p in fixtures.persons))
        finally:
            engine.dispose()
    except Exception as exc:  # the store is elsewhere (e.g. MySQL not reachable from here)
        progress(f"open admissions not read ({type(exc).__name__}: {exc}); 2401 may refuse some")
        return Admissions(), {"open": 0, "closed": 0, "failed": 0}
    if not visits:
        return Admissions(), {"open": 0, "closed": 0, "failed": 0}
    progress(f"closing {len(visits)} admissions earlier runs left open (2405/2404) …")

    async def close() -> tuple[int, int, Recorder]:
        factory = ClientFactory(params.client, params.url, 1)
        conn = factory.connection()
        recorder = Recorder()
        session = Session(conn, fixtures, recorder, random.Random(params.seed), reversal_rate=0.0,
                          auth=params.auth)  # fmt: skip
        try:
            closed, failed = await reset_admissions(session, visits)
        finally:
            await conn.close()
            await factory.aclose()
        return closed, failed, recorder

    closed, failed, recorder = asyncio.run(close())
    if failed:
        progress(f"{failed} admissions could not be closed ({recorder.error_samples[:2]}); skipped")
    still_open = Admissions()
    if failed:
        engine = store.row_store(data_dir)
        try:
            still_open = Admissions(store.open_admissions(engine))
        finally:
            engine.dispose()
    return still_open, {"open": len(visits), "closed": closed, "failed": failed}


def _admissions(data_dir: Path, progress: Progress) -> Admissions:
    """The store's open admissions (persons 2401 would refuse), skipped by inpatient flows."""
    try:
        engine = store.row_store(data_dir)
        try:
            busy = store.open_admissions(engine)
        finally:
            engine.dispose()
    except Exception as exc:  # the store is elsewhere (e.g. MySQL not reachable from here)
        progress(f"open admissions not read ({type(exc).__name__}: {exc}); 2401 may refuse some")
        return Admissions()
    if busy:
        progress(f"{len(busy)} persons have an open admission: inpatient flows skip them")
    return Admissions(busy)


def _load_summary(load: LoadResult) -> dict[str, Any]:
    rec = load.recorder
    return {
        "calls_per_s": round(load.calls_per_s, 1),
        "settlements_per_s": round(load.settlements_per_s, 1),
        "latency_ms": summary_ms(rec.all_latencies()),
        "calls": rec.calls,
        "settlements": load.settlements,
        "errors": rec.error_count,
        "error_samples": rec.error_samples,
        "seconds": round(load.seconds, 2),
    }


# -- freshness -------------------------------------------------------------------------------


async def _freshness_run(
    params: LoadParams,
    fixtures: Fixtures,
    admissions: Admissions,
    path: str,
    poll_s: float,
    latest: Callable[[], int],
    grace_s: float,
) -> tuple[LoadResult, list[tuple[str, float]], Polls]:
    headers = await login(params.url, fixtures.agency)
    polls = Polls()
    stop = asyncio.Event()
    poller = asyncio.create_task(
        poll_visibility(params.url, headers, path, polls, stop, interval_s=poll_s)
    )
    settled: list[tuple[str, float]] = []
    try:
        load = await run_load(params, fixtures, admissions=admissions, settled=settled)
        # keep polling until the last change is visible (or the grace period ends)
        target = await asyncio.to_thread(latest)
        until = time.perf_counter() + grace_s
        while time.perf_counter() < until and not (polls.seq and polls.seq[-1] >= target):
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await poller
    return load, settled, polls


def _lag_summary(lags_s: list[float], unseen: int) -> dict[str, Any]:
    return {
        **summary_ms(lags_s),
        "max": round(max(lags_s) * 1000, 2) if lags_s else 0.0,
        "count": len(lags_s),
        "not_seen": unseen,
    }


def run_freshness(
    params: LoadParams,
    data_dir: Path,
    *,
    probe: str = "summary",
    consistency: str = "bounded",
    poll_ms: float = 10.0,
    grace_s: float = 10.0,
    progress: Progress = lambda _m: None,
) -> dict[str, Any]:
    """Time from a settlement's commit to its first visibility in an analytic answer, under a
    settlement load at `params.rate` flows/s (HATtrick: the change log stamps (seq, ts_ms);
    every answer carries the seq it reflects)."""
    fixtures = _with_cast(params, load_fixtures(data_dir), data_dir, progress)
    engine = store.row_store(data_dir)
    try:
        try:
            admissions = Admissions(store.open_admissions(engine))
            since = store.latest_seq(engine)
        except SQLAlchemyError as exc:
            raise ConfigError(
                f"读不到服务的行存储 (freshness reads the change log of the server's row store "
                f"through --data-dir {data_dir}: {type(exc).__name__}; give the server's data "
                "directory)"
            ) from None
        path = probe_path(probe, consistency)
        progress(
            f"settlement load at {params.rate:g} flows/s for {params.duration:g} s, "
            f"polling {path} every {poll_ms:g} ms …"
        )
        load, settled, polls = asyncio.run(
            _freshness_run(
                params,
                fixtures,
                admissions,
                path,
                poll_ms / 1000,
                lambda: store.latest_seq(engine),
                grace_s,
            )
        )
        progress(f"looking up {len(settled)} settlements in the change log …")
        positions = store.settlement_positions(engine, (s for s, _ in settled), since)
    finally:
        engine.dispose()
    by_log = [(positions[s][0], positions[s][1] / 1000) for s, _ in settled if s in positions]
    by_answer = [(positions[s][0], at) for s, at in settled if s in positions]
    lags, unseen = visibility_lags(by_log, polls.at, polls.seq)
    lags_answer, _ = visibility_lags(by_answer, polls.at, polls.seq)
    poll_seconds = (polls.at[-1] - polls.at[0]) if len(polls.at) > 1 else 0.0
    summary = _lag_summary(lags, unseen)
    return {
        "scenario": "freshness",
        "freshness_ms": summary,
        "freshness_from_answer_ms": _lag_summary(lags_answer, unseen),
        # issue 22 (operations): p99 < 300 ms (wave 1's bar was 1 s)
        "goal": "p99 < 300 ms",
        "goal_met": bool(lags) and summary["p99"] < 300 and unseen == 0,
        "settlements": len(settled),
        "not_in_change_log": len(settled) - len(by_log),
        "probe": {
            "path": path,
            "consistency": "bounded (answers the replica as it is, no wait)"
            if probe == "position" or consistency == "bounded"
            else "strong (waits until the replica has applied the row store's latest seq)",
            "polls": len(polls.at),
            "polls_per_s": round(len(polls.at) / poll_seconds, 1) if poll_seconds else 0.0,
            "latency_ms": summary_ms(polls.latencies),
            "errors": polls.errors,
            "error_samples": polls.error_samples,
        },
        "load": _load_summary(load),
        "machine": machine(),
        "params": {
            **params.as_dict(),
            "probe": probe,
            "consistency": consistency,
            "poll_ms": poll_ms,
            "grace_s": grace_s,
            "data_dir": str(data_dir),
            "commit_time": "change_log.ts_ms of the settling transaction (freshness_ms); "
            "arrival of the settling answer at the driver (freshness_from_answer_ms)",
        },
    }


# -- interference ----------------------------------------------------------------------------


async def _with_viewers(
    params: LoadParams,
    fixtures: Fixtures,
    admissions: Admissions,
    viewers: int,
    period_s: float,
    consistency: str,
) -> tuple[LoadResult, ViewerStats]:
    headers = await login(params.url, fixtures.agency)
    stats = ViewerStats()
    deadline = time.perf_counter() + params.duration
    tasks = [
        asyncio.create_task(
            dashboard_viewer(
                params.url,
                headers,
                stats,
                deadline,
                period_s=period_s,
                offset_s=period_s * i / viewers,
                consistency=consistency,
            )
        )
        for i in range(viewers)
    ]
    try:
        load = await run_load(params, fixtures, admissions=admissions)
    finally:
        await asyncio.gather(*tasks, return_exceptions=True)
    return load, stats


def run_interference(
    params: LoadParams,
    data_dir: Path,
    *,
    viewers: int = 5,
    period_s: float = 1.0,
    rounds: int = 1,
    consistency: str = "bounded",
    progress: Progress = lambda _m: None,
) -> dict[str, Any]:
    """Settlement throughput alone, then with `viewers` dashboard viewers each refreshing the
    full dashboard every `period_s`; `rounds` alternations (alone, with) are summed."""
    fixtures = _with_cast(params, load_fixtures(data_dir), data_dir, progress)
    admissions = _admissions(data_dir, progress)
    alone: list[LoadResult] = []
    together: list[LoadResult] = []
    stats = ViewerStats()
    for r in range(1, rounds + 1):
        progress(f"round {r}/{rounds}: settlements alone ({params.duration:g} s) …")
        alone.append(asyncio.run(run_load(params, fixtures, admissions=admissions)))
        progress(f"round {r}/{rounds}: with {viewers} dashboard viewers …")
        load, round_stats = asyncio.run(
            _with_viewers(params, fixtures, admissions, viewers, period_s, consistency)
        )
        together.append(load)
        stats.latencies += round_stats.latencies
        stats.errors += round_stats.errors
        stats.error_samples += round_stats.error_samples[: 5 - len(stats.error_samples)]

    def rate(loads: list[LoadResult]) -> float:
        seconds = sum(x.seconds for x in loads)
        return sum(x.recorder.calls for x in loads) / seconds if seconds > 0 else 0.0

    def setl_rate(loads: list[LoadResult]) -> float:
        seconds = sum(x.seconds for x in loads)
        return sum(x.settlements for x in loads) / seconds if seconds > 0 else 0.0

    cps_alone, cps_with = rate(alone), rate(together)
    loss = loss_pct(cps_alone, cps_with)
    seconds_with = sum(x.seconds for x in together)
    return {
        "scenario": "interference",
        "calls_per_s_alone": round(cps_alone, 1),
        "calls_per_s_with_analytics": round(cps_with, 1),
        "loss_pct": loss,
        # issue 22: < 5 % now that analytics has its own process (wave 1's bar was 10 %)
        "goal": "loss_pct < 5",
        "goal_met": loss is not None and loss < 5,
        "settlements_per_s_alone": round(setl_rate(alone), 1),
        "settlements_per_s_with_analytics": round(setl_rate(together), 1),
        "errors_alone": sum(x.recorder.error_count for x in alone),
        "errors_with_analytics": sum(x.recorder.error_count for x in together),
        "error_samples": [s for x in alone + together for s in x.recorder.error_samples][:5],
        "dashboard": {
            "refreshes": len(stats.latencies),
            "refreshes_per_s": round(len(stats.latencies) / seconds_with, 2)
            if seconds_with
            else 0.0,
            "latency_ms": summary_ms(stats.latencies),
            "errors": stats.errors,
            "error_samples": stats.error_samples,
        },
        "rounds": [
            {"alone": _load_summary(a), "with_analytics": _load_summary(w)}
            for a, w in zip(alone, together, strict=True)
        ],
        "machine": machine(),
        "params": {
            **params.as_dict(),
            "viewers": viewers,
            "refresh_period_s": period_s,
            "rounds": rounds,
            "dashboard": f"GET /api/v1/analytics/dashboard ({consistency}, every panel, "
            "one snapshot)",
            "consistency": consistency,
            "data_dir": str(data_dir),
        },
    }


# -- analytics -------------------------------------------------------------------------------


def run_analytics(
    data_dir: Path,
    *,
    repeat: int = 3,
    min_settlements: int = 0,
    day: date | None = None,
    progress: Progress = lambda _m: None,
) -> dict[str, Any]:
    """Every dashboard query on the replica and on the row store, in this process, on a
    stopped data directory (`bench.offline`)."""
    started = time.perf_counter()
    result = offline.measure(
        data_dir, repeat=repeat, min_settlements=min_settlements, day=day, progress=progress
    )
    size = result["store"]["settlements"]
    slow = [q["name"] for q in result["queries"] if q["replica_ms"] >= 1000]
    low = [q["name"] for q in result["queries"] if (q["ratio"] or 0) < 20]
    return {
        "scenario": "analytics",
        "queries": result["queries"],
        "dashboard_replica_ms": result["dashboard_replica_ms"],
        "dashboard_rowstore_ms_sum": result["dashboard_rowstore_ms_sum"],
        "all_same_rows": all(q["same_rows"] for q in result["queries"]),
        "goal": "each query < 1000 ms on the replica and ratio ≥ 20 at 10,000,000 settlements",
        "replica_over_1s": slow,
        "ratio_below_20": low,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "params": {
            "settlements": size,
            "repeat": repeat,
            "statistic": "median of the repeats after one warm-up run",
            **result["store"],
            "data_dir": str(data_dir),
        },
    }
