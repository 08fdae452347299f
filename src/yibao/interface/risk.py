"""Post-hoc monitoring's use case for the HTTP edge and the schedule: a run on the replica this
process serves (`POST /api/v1/risk/runs`, the nightly run in `serve`; docs/monitoring.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yibao.errors import InvalidInput
from yibao.monitoring.plan import check_categories
from yibao.replica.service import ReplicaUnavailable
from yibao.review import posthoc
from yibao.runtime import Platform


def run_now(platform: Platform, body: Mapping[str, Any], *, run_by: str) -> dict[str, Any]:
    """`{since?, until?, categories?}` → the run's summary. 4xx (InvalidInput) on bad input,
    before anything is read or written."""
    if not isinstance(body, Mapping):
        raise InvalidInput("body: 应为 JSON 对象 (a JSON object)")
    unknown = sorted(set(body) - {"since", "until", "categories"})
    if unknown:
        raise InvalidInput(f"{unknown[0]}: 未知字段 (unknown field; since, until, categories)")
    since = posthoc.parse_day("since", _text(body, "since"))
    until = posthoc.parse_day("until", _text(body, "until"))
    raw = body.get("categories") or []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise InvalidInput("categories: 应为类别名的列表 (a list of category keys)")
    posthoc.check_period(since, until)
    check_categories(raw)
    replica = platform.replica
    if replica is None:
        raise ReplicaUnavailable("分析副本未启用 (the replica is not running in this process)")
    return posthoc.run_on_replica(
        replica,
        platform.reviewer.ruleset,
        since=since,
        until=until,
        categories=raw,
        run_by=run_by,
        background_applier=replica.applier.running,
    )


def _text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{key}: 应为 yyyy-MM-dd 字符串 (a yyyy-MM-dd string)")
    return value
