"""Liveness and readiness of a serving process (`GET /healthz`, `GET /readyz`).

Ready means this process can settle and the analytics keep up:

- ``row_store``: a read on the row store answers (within the configured timeouts);
- ``migrations``: the row store's schema revision is the code's head (`yibao init` / `db
  upgrade` ran);
- ``replica``: the columnar replica's applier is alive — in this process, or in the analytics
  process, whose heartbeat (`replica.heartbeat`) is fresh — and it is at most
  `Settings.ready_max_lag_ms` behind the row store. Skipped where there is no DuckDB
  replica (disabled, or TiDB, where TiFlash is TiDB's own business).
- ``analytics`` (a gateway beside an analytics process, `yibao serve`): that process answers
  its `GET /healthz`. Its heartbeat starts before its HTTP port listens, so a fresh beat alone
  does not mean the analytics APIs this gateway passes on will be answered.

Each check answers ``{"ok": bool, ...}`` with a reason when it fails; no check raises.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

import httpx
from sqlalchemy import func, select, text

from yibao.replica import heartbeat
from yibao.runtime import Platform
from yibao.storage import faults
from yibao.storage.migrate import current_revision, head_revision
from yibao.storage.tables import change_log

log = logging.getLogger(__name__)

Check = dict[str, Any]


@functools.cache
def _head() -> str | None:
    return head_revision()


def _row_store(platform: Platform) -> Check:
    try:
        with platform.db.read() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
        faults.recovered("readyz")
        return {"ok": True, "backend": platform.db.backend.name}
    except Exception as exc:
        down = faults.unavailable(exc)
        reason = down.message if down is not None else faults.describe(exc)
        return {"ok": False, "reason": reason}


def _migrations(platform: Platform) -> Check:
    head = _head()
    try:
        current = current_revision(platform.db.read_engine)
    except Exception as exc:
        return {
            "ok": False,
            "reason": f"版本无法读取 (cannot read the revision): {faults.describe(exc)}",
        }
    if current != head:
        return {
            "ok": False,
            "current": current,
            "head": head,
            "reason": "数据库需升级 (schema missing or old): run `yibao db upgrade`",
        }
    return {"ok": True, "current": current}


def _lag_ms(platform: Platform, applied: int) -> tuple[int, int]:
    """(rows, ms) the replica at `applied` is behind the row store."""
    with platform.db.read() as conn:
        latest = int(conn.execute(select(func.max(change_log.c.seq))).scalar_one_or_none() or 0)
        if latest <= applied:
            return 0, 0
        ts = conn.execute(
            select(change_log.c.ts_ms).where(change_log.c.seq == applied + 1)
        ).scalar_one_or_none()
    ms = max(0, int(time.time() * 1000) - int(ts)) if ts is not None else 0
    return latest - applied, ms


def _replica(platform: Platform) -> Check:
    settings = platform.settings
    if platform.db.backend.is_tidb or not settings.replica_enabled:
        return {"ok": True, "skipped": "no DuckDB replica (TiFlash or disabled)"}
    limit = settings.ready_max_lag_ms
    local = platform.replica
    if local is not None:
        where = "this process"
        alive = local.applier.running
        applied = local.store.applied_seq
        blocked = local.applier.blocked
        error = str(blocked) if blocked is not None else None
    else:
        beat = heartbeat.read(settings.data_dir)
        if beat is None:
            return {
                "ok": False,
                "reason": "副本应用进程未运行 (no replica applier: its process is not running)",
            }
        where = f"pid {beat.pid}"
        alive = beat.alive
        applied = beat.applied_seq
        error = beat.error
        if not alive:
            return {
                "ok": False,
                "process": where,
                "reason": f"副本应用进程无心跳 (the replica applier's last beat is "
                f"{beat.age_ms()} ms old)",
            }
    if not alive:
        return {"ok": False, "process": where, "reason": "副本应用线程已停止 (the applier stopped)"}
    try:
        rows, ms = _lag_ms(platform, applied)
    except Exception as exc:
        return {
            "ok": False,
            "reason": f"无法读取变更日志 (cannot read the change log): {faults.describe(exc)}",
        }
    check: Check = {
        "ok": ms <= limit,
        "process": where,
        "applied_seq": applied,
        "lag_rows": rows,
        "lag_ms": ms,
        "max_lag_ms": limit,
    }
    if ms > limit:
        check["reason"] = f"副本延迟过大 (the replica is {ms} ms behind; the limit is {limit} ms)"
        if error:
            check["error"] = error
    return check


#: an analytics process that does not answer its liveness probe within this is not ready
ANALYTICS_PROBE_S = 2.0


def _analytics(url: str) -> Check:
    try:
        answer = httpx.get(f"{url}/healthz", timeout=ANALYTICS_PROBE_S)
    except httpx.HTTPError as exc:
        return {
            "ok": False,
            "reason": f"分析进程未应答 (the analytics process does not answer: "
            f"{type(exc).__name__}); `yibao serve` restarts it",
        }
    if answer.status_code != 200:
        return {
            "ok": False,
            "reason": f"分析进程应答 {answer.status_code} (the analytics process answered "
            f"{answer.status_code} to its liveness probe)",
        }
    try:
        body = answer.json()
    except ValueError:  # answered, but not as our /healthz does: not the analytics process
        body = None
    if not isinstance(body, dict) or body.get("status") != "ok":
        return {
            "ok": False,
            "reason": "分析进程应答异常 (the analytics port answered, but not as yibao's /healthz)",
        }
    return {"ok": True, "pid": body.get("pid")}


def readiness(
    platform: Platform, analytics_url: str | None = None
) -> tuple[bool, dict[str, Check]]:
    """(ready, {check name: result}); the replica check runs only when the row store answers.
    `analytics_url`: the analytics process a gateway passes the analytics APIs to."""
    checks: dict[str, Check] = {"row_store": _row_store(platform)}
    if checks["row_store"]["ok"]:
        checks["migrations"] = _migrations(platform)
        checks["replica"] = _replica(platform)
    else:
        skipped = {"ok": False, "reason": "行存储不可用 (the row store is unavailable)"}
        checks["migrations"] = dict(skipped)
        checks["replica"] = dict(skipped)
    if analytics_url is not None:
        checks["analytics"] = _analytics(analytics_url)
    ready = all(check["ok"] for check in checks.values())
    return ready, checks
