"""Freshness: how long after its commit a change is visible in an analytic answer.

Measured the HATtrick way (reference/htap.md §3): the change log stamps each change with
`(seq, ts_ms)` in the committing transaction; every analytic answer carries the `seq` it
reflects. The freshness lag of a change is the time from its `ts_ms` to the first answer
whose `seq` is at least its own.

- `probe(analytics, seq, ts_ms)` polls a cheap dashboard query until an answer shows `seq`;
  with `consistency="strong"` the first answer shows it by construction (the lag is then the
  strong read's wait); with `"bounded"` it measures how far the applier trails.
- `probe_entity(analytics, "setl", setl_id)` looks the change up in the change log first.
- `Replica.applier.on_applied(listener)` gives the exact apply time of every batch, for a
  harness that wants the distribution without polling.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from yibao.analytics.service import Analytics
from yibao.errors import NotFound
from yibao.kit import clock
from yibao.storage import changelog


@dataclass(frozen=True)
class FreshnessSample:
    seq: int
    commit_ts_ms: int
    #: wall-clock ms when the first answer showing `seq` came back
    visible_ms: int
    #: visible_ms − commit_ts_ms
    lag_ms: int
    #: the seq of that answer
    answer_seq: int
    polls: int
    consistency: str


def probe(
    analytics: Analytics,
    seq: int,
    commit_ts_ms: int,
    *,
    consistency: str = "bounded",
    max_lag_ms: int = 60_000,
    query: str = "summary",
    timeout_s: float = 30.0,
    poll_s: float = 0.001,
) -> FreshnessSample:
    """Poll `query` (today's summary by default) until an answer reflects `seq`."""
    today = clock.now().date()
    params = {"date_from": today, "date_to": today} if query in ("summary", "by_day") else {}
    deadline = time.monotonic() + timeout_s
    polls = 0
    while True:
        polls += 1
        answer = analytics.run_on_replica(
            query, params, consistency=consistency, max_lag_ms=max_lag_ms
        )
        if answer.seq >= seq:
            visible = int(time.time() * 1000)
            return FreshnessSample(
                seq, commit_ts_ms, visible, visible - commit_ts_ms, answer.seq, polls, consistency
            )
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"seq {seq} not visible after {timeout_s}s (replica at {answer.seq})"
            )
        time.sleep(poll_s)


def change_position(
    analytics: Analytics, entity: str, entity_key: str, *, window: int = 100_000
) -> tuple[int, int]:
    """(seq, ts_ms) of the latest change of an entity key among the last `window` changes."""
    with analytics.rowstore.connect() as conn:
        found = changelog.latest_change_of(conn, entity, entity_key, window=window)
        conn.rollback()
    if found is None:
        raise NotFound(f"变更日志中没有 {entity} {entity_key} (no such change)")
    return found


def probe_entity(
    analytics: Analytics,
    entity: str,
    entity_key: str,
    *,
    consistency: str = "bounded",
    max_lag_ms: int = 60_000,
    query: str = "summary",
    timeout_s: float = 30.0,
    poll_s: float = 0.001,
) -> FreshnessSample:
    """Freshness of the latest change of e.g. `("setl", setl_id)`; the options are `probe`'s."""
    seq, ts_ms = change_position(analytics, entity, entity_key)
    return probe(
        analytics,
        seq,
        ts_ms,
        consistency=consistency,
        max_lag_ms=max_lag_ms,
        query=query,
        timeout_s=timeout_s,
        poll_s=poll_s,
    )
