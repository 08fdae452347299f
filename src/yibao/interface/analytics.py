"""The analytics edge's use cases: the named queries, the shared T+0 dashboard, the replica's
position, and the replica operations (`yibao replica status|rebuild|verify` while a server
owns the DuckDB file). Answers are plain dicts; amounts stay `Decimal` (the edge renders them
as exact strings).

Everything here reads `platform.analytics` / `.dashboard` / `.replica` / `.tiflash`, which
exist only while this process serves the replica (`Platform.serve_replica`); otherwise the
calls answer 503 `ReplicaUnavailable` with the reason.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yibao.analytics.registry import registry
from yibao.analytics.service import Analytics
from yibao.errors import InvalidInput
from yibao.kit import clock
from yibao.replica.lock import TOKEN_HEADER
from yibao.replica.service import BOUNDED, STRONG, Replica, ReplicaUnavailable
from yibao.replica.verify import verify
from yibao.runtime import Platform

__all__ = [
    "BOUNDED",
    "STRONG",
    "TOKEN_HEADER",
    "backup_replica",
    "catalogue",
    "dashboard",
    "export_parquet",
    "is_local_operator",
    "position",
    "rebuild_replica",
    "replica_status",
    "run_query",
    "verify_replica",
]


def _need_analytics(platform: Platform) -> Analytics:
    if platform.analytics is None:
        raise ReplicaUnavailable(
            "分析副本未启用 (analytics are not served by this process: the replica is "
            "disabled or another process owns it)"
        )
    return platform.analytics


def _need_replica(platform: Platform) -> Replica:
    if platform.replica is None:
        if platform.tiflash is not None:
            raise ReplicaUnavailable("TiDB 上由 TiFlash 承担副本 (on TiDB the replica is TiFlash)")
        raise ReplicaUnavailable("分析副本未启用 (the replica is not running in this process)")
    return platform.replica


def _check_consistency(consistency: str) -> None:
    if consistency not in (STRONG, BOUNDED):
        raise InvalidInput("consistency: 应为 strong 或 bounded (strong | bounded)")


# -- analytics ---------------------------------------------------------------------------------


def catalogue(platform: Platform) -> dict[str, Any]:
    """The engine serving the queries and every named query with its parameters."""
    return {
        "engine": platform.analytics.engine_name if platform.analytics else "none",
        "queries": [
            {
                "name": q.name,
                "title": q.title,
                "params": [{"name": p.name, "title": p.title, "kind": p.kind} for p in q.params],
            }
            for q in registry().values()
        ],
    }


def dashboard(
    platform: Platform, *, day: str | None, consistency: str, max_lag_ms: int
) -> dict[str, Any]:
    """Every dashboard panel from one snapshot; bounded reads share one recent answer."""
    _need_analytics(platform)
    _check_consistency(consistency)
    try:
        when = clock.parse_date(day) if day else None
    except ValueError:
        raise InvalidInput(f"day: 日期格式应为 yyyy-MM-dd: {day}") from None
    shared = platform.dashboard
    assert shared is not None  # set together with platform.analytics
    return shared.get(when, consistency=consistency, max_lag_ms=max_lag_ms).envelope()


def position(platform: Platform) -> dict[str, Any]:
    """The replica's seq and lag (cheap; the dashboard page polls it)."""
    return _need_analytics(platform).position()


def run_query(platform: Platform, name: str, query: Mapping[str, str]) -> dict[str, Any]:
    """One named query; `query` holds its parameters plus `consistency` (strong | bounded)
    and `max_lag_ms` (default 1000)."""
    analytics = _need_analytics(platform)
    params = dict(query)
    consistency = params.pop("consistency", STRONG)
    _check_consistency(consistency)
    raw_lag = params.pop("max_lag_ms", "1000")
    try:
        max_lag_ms = int(raw_lag)
    except ValueError:
        raise InvalidInput(f"max_lag_ms: 应为整数毫秒 (integer ms): {raw_lag}") from None
    answer = analytics.run_on_replica(
        name, params, consistency=consistency, max_lag_ms=max(0, max_lag_ms)
    )
    return answer.envelope()


# -- replica operations ------------------------------------------------------------------------


def is_local_operator(platform: Platform, token: str | None) -> bool:
    """Whether `token` (header X-Yibao-Replica-Token) is the one this process published in
    the replica's lock file: only whoever may read the data directory knows it."""
    lock = platform.replica_lock
    return bool(token) and lock is not None and secrets.compare_digest(str(token), lock.token)


def replica_status(platform: Platform) -> dict[str, Any]:
    if platform.tiflash is not None:
        return platform.tiflash.status()
    return _need_replica(platform).status()


def rebuild_replica(platform: Platform, source: str) -> dict[str, Any]:
    """Start a rebuild in the background (source auto | log | tables); on TiDB, set the
    TiFlash replicas again."""
    if source not in ("auto", "log", "tables"):
        raise InvalidInput("source: 应为 auto、log 或 tables")
    if platform.tiflash is not None:
        return {"started": True, "ddl": platform.tiflash.ensure_replicas()}
    replica = _need_replica(platform)
    started = replica.rebuild_async(source)
    return {"started": started, "status": replica.status()}


def verify_replica(platform: Platform) -> dict[str, Any]:
    """Compare the replica with the row store, after it has caught up."""
    replica = _need_replica(platform)
    report = verify(replica.store, replica.source, lambda target: replica.applier.wait_for(target))
    return report.as_dict()


def export_parquet(
    platform: Platform, *, table: str, out: str, since: str | None, until: str | None
) -> dict[str, Any]:
    """`yibao export parquet` while a server owns the replica: the files are written by this
    process, on its machine, where the command's operator asked."""
    target = Path(out)
    if not target.is_absolute():
        raise InvalidInput(f"out: 须为绝对路径 (an absolute directory path; got '{out}')")
    report = _need_replica(platform).export_parquet(
        table=table, out_dir=target, since=since, until=until
    )
    return report.as_dict()


def backup_replica(platform: Platform, *, out: str) -> dict[str, Any]:
    """`yibao backup` while a server owns the replica: a consistent copy of the file, taken
    between two applied batches; answers the seq the copy holds."""
    target = Path(out)
    if not target.is_absolute() or not target.parent.is_dir():
        raise InvalidInput(
            f"out: 须为已存在目录中的绝对路径 (an absolute path in an existing directory; got '{out}')"
        )
    return {"applied_seq": _need_replica(platform).store.copy_to(target), "out": str(target)}
