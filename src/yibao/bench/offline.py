"""The `analytics` scenario's measurement: every dashboard query on the replica (DuckDB) and
on the row store, in this process, on a data directory no server is using.

It opens the replica like `yibao replica verify` does offline (taking its lock), applies
what the change log still holds — or, more than `REBUILD_ABOVE` changes behind (after
`yibao simulate load`), rebuilds it from the tables —
then times each query of `analytics.service.dashboard_queries(day)` — `day` being `--day` or
the last busy day of the store (`busy_day`), so that "today" and "this month" have data — once to
warm up and `repeat` times measured, on both sides, and checks that both return the same
rows."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from yibao.analytics.service import Analytics, dashboard_queries
from yibao.config import load_settings
from yibao.errors import ConfigError
from yibao.replica.lock import OwnerLock, running_owner
from yibao.replica.service import STRONG, Replica
from yibao.storage.tables import setl

Progress = Callable[[str], None]
#: a replica further behind than this is rebuilt from the tables instead of tailing the log
#: (after a bulk load, rebuilding is much faster than tailing; figures in bench/RESULTS.md)
REBUILD_ABOVE = 50_000


def _store_size(analytics: Analytics) -> tuple[int, int, date | None]:
    """(settlements, reversal records, the dashboard's day): the latest day holding at least
    half the mean settlements of a day — not simply the latest settlement, which after a
    simulated year is a lone discharge weeks later, with an almost empty "today" and month."""
    day_of = func.date(setl.c.setl_time)
    with analytics.rowstore.connect() as conn:
        rows = conn.execute(
            select(setl.c.refd_setl_flag, func.count()).group_by(setl.c.refd_setl_flag)
        ).all()
        days = conn.execute(select(day_of, func.count()).group_by(day_of)).all()
        conn.rollback()
    counts = {str(flag): int(n) for flag, n in rows}
    originals = counts.get("0", 0)
    reversals = sum(counts.values()) - originals
    return originals, reversals, busy_day([(_as_date(d), int(n)) for d, n in days])


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def busy_day(per_day: list[tuple[date, int]]) -> date | None:
    """The latest day with at least half the mean count of the days that have any."""
    if not per_day:
        return None
    mean = sum(n for _, n in per_day) / len(per_day)
    return max(d for d, n in per_day if n >= mean / 2)


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, list[float]]:
    """Warm-up call (its answer is returned), then `repeat` timed calls in ms."""
    answer = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return answer, times


def measure(
    data_dir: Path,
    *,
    repeat: int,
    min_settlements: int = 0,
    day: date | None = None,
    progress: Progress,
) -> dict[str, Any]:
    settings = load_settings(data_dir=data_dir)
    owner = running_owner(settings.data_dir)
    if owner is not None:
        raise ConfigError(
            f"数据目录正被服务进程使用 (pid {owner.pid}; the analytics scenario measures a "
            f"stopped data directory: stop the server of {settings.data_dir} first)"
        )
    lock = OwnerLock(settings.data_dir)
    if not lock.acquire():
        raise ConfigError("副本正被另一进程使用 (another process holds the replica; retry)")
    try:
        replica = Replica.open(settings, lock=lock)
    except BaseException:
        lock.release()
        raise
    try:
        analytics = Analytics(rowstore=replica.source, replica=replica)
        settlements, reversals, busiest = _store_size(analytics)
        day = day or busiest
        t0 = time.perf_counter()
        behind = replica.lag().rows
        if behind > REBUILD_ABOVE:
            # after a bulk load: building from the tables is far faster than tailing the log
            prepared = "rebuild from tables"
            progress(f"replica: {behind:,} changes behind — rebuilding from the tables …")
            replica.rebuild("tables")
        else:
            prepared = "catch up"
            progress(f"replica: applying {behind:,} changes of the log …")
        applied = replica.applier.catch_up()
        catch_up_s = time.perf_counter() - t0
        if day is None or settlements < min_settlements:
            raise ConfigError(
                f"{data_dir} 中只有 {settlements:,} 笔结算 (settlements), 少于 "
                f"--settlements {max(1, min_settlements):,} (load more with "
                "`yibao simulate load --settlements N`)"
            )
        queries = []
        for panel, name, qparams in dashboard_queries(day):
            progress(f"{panel} ({name}) …")
            rep, rep_ms = _timed(partial(analytics.run_on_replica, name, qparams), repeat)
            row, row_ms = _timed(partial(analytics.run_on_rowstore, name, qparams), repeat)
            replica_ms = statistics.median(rep_ms)
            rowstore_ms = statistics.median(row_ms)
            queries.append(
                {
                    "name": f"{panel} ({name})",
                    "panel": panel,
                    "query": name,
                    "replica_ms": round(replica_ms, 2),
                    "rowstore_ms": round(rowstore_ms, 2),
                    "ratio": round(rowstore_ms / replica_ms, 1) if replica_ms > 0 else None,
                    "replica_ms_min": round(min(rep_ms), 2),
                    "rowstore_ms_min": round(min(row_ms), 2),
                    "same_rows": rep.data == row.data,
                    "rows": len(rep.data),
                }
            )
        progress("whole dashboard (one snapshot) …")
        _, whole_ms = _timed(lambda: analytics.dashboard(day, consistency=STRONG), repeat)
        return {
            "queries": queries,
            "dashboard_replica_ms": round(statistics.median(whole_ms), 2),
            "dashboard_rowstore_ms_sum": round(sum(q["rowstore_ms"] for q in queries), 2),
            "store": {
                "settlements": settlements,
                "reversal_records": reversals,
                "day": day.isoformat(),
                "applied_seq": applied,
                "replica_prepared": prepared,
                "changes_behind": behind,
                "catch_up_s": round(catch_up_s, 2),
                "replica_path": str(settings.replica_path),
                "duckdb_threads": settings.duckdb_threads,
                "db": settings.db_url.split(":", 1)[0],
            },
        }
    finally:
        replica.close()
