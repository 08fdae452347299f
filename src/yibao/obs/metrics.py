"""The process's metrics, in the Prometheus text format at `GET /metrics` (docs/operations.md).

Every name starts with `yibao_`. Labels carry codes only — a transaction number, an infcode,
a rule code, a pool name — never a person's data (psn_no, certno, name …), so a metric
cannot leak one and the label sets stay small.

Several gateway processes (`yibao serve --workers N`) and the analytics process share one
directory named by ``PROMETHEUS_MULTIPROC_DIR`` (set by `serve` for its children before they
import this module): every process writes its values there and `render()` in any of them
sums (counters, histograms), adds up the live processes (pool gauges) or takes the largest
(replica lag) — prometheus-client's multiprocess mode. Without the variable, one process
answers from its own registry.

On the settlement path a record is a cached child's `inc`/`observe` (no label lookup).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

#: the environment variable that turns multiprocess mode on (prometheus-client's name)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: this process's id, kept in memory and renewed in a forked child
_pid = os.getpid()


def _renew_pid() -> None:
    global _pid
    _pid = os.getpid()


def _process_id() -> int:
    return _pid


if os.environ.get(MULTIPROC_ENV):
    # In multiprocess mode every update of a value asks the kernel for the pid (`os.getpid`,
    # a system call: glibc no longer caches it) to notice a fork; a settlement call makes about
    # ten updates. The pid is kept here instead, renewed after a fork; prometheus-client takes
    # this function for it (`values.MultiProcessValue(process_identifier)`), and reads
    # `values.ValueClass` when each metric below creates its values.
    os.register_at_fork(after_in_child=_renew_pid)
    values.ValueClass = values.MultiProcessValue(_process_id)  # type: ignore[no-untyped-call]
CONTENT_TYPE = CONTENT_TYPE_LATEST

#: an infno yibao does not serve (or none at all) counts under this label
OTHER = "other"

_LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

CALLS = Counter(
    "yibao_calls",
    "National-interface calls answered, by transaction number and infcode",
    ["infno", "infcode"],
)
CALL_SECONDS = Histogram(
    "yibao_call_seconds",
    "National-interface call latency from the request body to the answer, by transaction",
    ["infno"],
    buckets=_LATENCY_BUCKETS,
)
COMMIT_BATCH = Histogram(
    "yibao_group_commit_batch_size",
    "Write jobs committed together in one transaction by the row store's writer",
    buckets=_BATCH_BUCKETS,
)
COMMIT_SECONDS = Histogram(
    "yibao_commit_seconds",
    "Time of one row-store write transaction (a group-commit batch, or one job)",
    buckets=_LATENCY_BUCKETS,
)
POOL_IN_USE = Gauge(
    "yibao_db_pool_in_use",
    "Row-store connections checked out of the pools, by pool",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "yibao_db_pool_open",
    "Row-store connections open in the pools, by pool",
    ["pool"],
    multiprocess_mode="livesum",
)
REPLICA_LAG_ROWS = Gauge(
    "yibao_replica_lag_rows",
    "Changes committed to the row store and not yet applied to the columnar replica",
    multiprocess_mode="max",
)
REPLICA_LAG_SECONDS = Gauge(
    "yibao_replica_lag_seconds",
    "Age of the oldest change not yet applied to the columnar replica (0 when caught up)",
    multiprocess_mode="max",
)
REPLICA_APPLIED_SEQ = Gauge(
    "yibao_replica_applied_seq",
    "The change-log position the columnar replica has applied",
    multiprocess_mode="max",
)
REPLICA_BATCH_SECONDS = Histogram(
    "yibao_replica_batch_seconds",
    "Time to apply one micro-batch of changes to the columnar replica",
    buckets=_LATENCY_BUCKETS,
)
REPLICA_BATCH_ROWS = Histogram(
    "yibao_replica_batch_rows",
    "Changes applied to the columnar replica in one micro-batch",
    buckets=_BATCH_BUCKETS,
)
RULE_HITS = Counter(
    "yibao_rule_hits",
    "Risk-control rule hits, by rule code and outcome (warn, refuse …)",
    ["rule", "outcome"],
)
SIGNIN_FAILURES = Counter(
    "yibao_signin_failures",
    "Failed sign-ins: console passwords, gateway credentials and signatures, 9001 sign-in",
    ["via"],
)
STORE_UNAVAILABLE = Counter(
    "yibao_row_store_unavailable",
    "Calls or commits that found the row store down, frozen or full",
    ["where"],
)

_calls: dict[tuple[str, str], Callable[[float], None]] = {}
_calls_lock = threading.Lock()


def _call_child(infno: str, infcode: str) -> Callable[[float], None]:
    with _calls_lock:
        found = _calls.get((infno, infcode))
        if found is None:
            counter = CALLS.labels(infno=infno, infcode=infcode)
            histogram = CALL_SECONDS.labels(infno=infno)

            def record(seconds: float) -> None:
                counter.inc()
                histogram.observe(seconds)

            found = _calls[(infno, infcode)] = record
        return found


def call(infno: str | None, infcode: int, seconds: float) -> None:
    """Count one answered national-interface call. `infno` must be a transaction yibao
    serves (the caller checks the registry), else None: it is counted as `other`."""
    key = (infno or OTHER, str(infcode))
    record = _calls.get(key)
    if record is None:
        record = _call_child(*key)
    record(seconds)


def commit_batch(jobs: int, seconds: float) -> None:
    """One write transaction of the row store's writer: `jobs` jobs in `seconds`."""
    COMMIT_BATCH.observe(jobs)
    COMMIT_SECONDS.observe(seconds)


def rule_hit(rule: str, outcome: str = "hit") -> None:
    """Count a risk-control rule's hit (for the review rules: call it once per hit). `rule` is
    the rule's code (e.g. ``R-PRICE-CAP``), never anything about the person."""
    RULE_HITS.labels(rule=rule[:64], outcome=outcome[:16]).inc()


def signin_failed(via: str) -> None:
    """Count a failed sign-in: ``console`` (password), ``gateway`` (credential or signature),
    ``9001`` (an operator's sign-in refused)."""
    SIGNIN_FAILURES.labels(via=via).inc()


def store_unavailable(where: str) -> None:
    STORE_UNAVAILABLE.labels(where=where).inc()


def replica_position(applied_seq: int, lag_rows: int, lag_ms: int) -> None:
    REPLICA_APPLIED_SEQ.set(applied_seq)
    REPLICA_LAG_ROWS.set(lag_rows)
    REPLICA_LAG_SECONDS.set(lag_ms / 1000)


def replica_batch(rows: int, seconds: float) -> None:
    REPLICA_BATCH_ROWS.observe(rows)
    REPLICA_BATCH_SECONDS.observe(seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def render() -> bytes:
    """The Prometheus text exposition of this process (or of every process sharing the
    multiprocess directory)."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


def process_exited(pid: int, directory: str | None = None) -> None:
    """Drop a dead process's live gauges from the multiprocess `directory` (default: this
    process's own); the supervisor calls it for a child that ended."""
    found = directory or multiprocess_dir()
    if found:
        multiprocess.mark_process_dead(pid, found)  # type: ignore[no-untyped-call]
