"""Latency and throughput arithmetic of the driver.

Percentiles use the nearest-rank method: the p-th percentile of n sorted samples is the
sample of rank ceil(p/100 × n) (1-based) — always an observed value, never interpolated.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values; 0.0 for no values."""
    if not 0 < p <= 100:
        raise ValueError("p must be within (0, 100]")
    n = len(sorted_values)
    if n == 0:
        return 0.0
    rank = max(1, math.ceil(p / 100 * n))
    return sorted_values[rank - 1]


def summary_ms(latencies_s: Iterable[float]) -> dict[str, float]:
    """{p50, p95, p99} in milliseconds, rounded to 0.01 ms."""
    values = sorted(latencies_s)
    return {
        f"p{p}": round(percentile(values, p) * 1000, 2) if values else 0.0 for p in (50, 95, 99)
    }


@dataclass
class Recorder:
    """Latencies of successful calls and errors, per transaction code."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    max_samples: int = 5

    def ok(self, infno: str, seconds: float) -> None:
        self.latencies.setdefault(infno, []).append(seconds)

    def error(self, infno: str, message: str) -> None:
        self.errors[infno] = self.errors.get(infno, 0) + 1
        if len(self.error_samples) < self.max_samples:
            self.error_samples.append(f"{infno}: {message}"[:300])

    @property
    def calls(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def count(self, *infnos: str) -> int:
        return sum(len(self.latencies.get(i, ())) for i in infnos)

    def all_latencies(self) -> list[float]:
        out: list[float] = []
        for values in self.latencies.values():
            out.extend(values)
        return out

    def per_transaction(self, seconds: float) -> dict[str, dict[str, object]]:
        out: dict[str, dict[str, object]] = {}
        for infno in sorted(set(self.latencies) | set(self.errors)):
            values = self.latencies.get(infno, [])
            out[infno] = {
                "calls": len(values),
                "calls_per_s": round(len(values) / seconds, 1) if seconds > 0 else 0.0,
                "latency_ms": summary_ms(values),
                "errors": self.errors.get(infno, 0),
            }
        return out


def visibility_lags(
    commits: Sequence[tuple[int, float]], at: Sequence[float], seqs: Sequence[int]
) -> tuple[list[float], int]:
    """Freshness of each `(seq, commit time)`: first visible − commit time, in seconds
    (never below 0: with the answer's arrival as the commit time, the poller may see a
    settlement before the settling answer reached the driver). Returns (lags, not seen)."""
    # the running maximum once, then a binary search per commit
    running: list[int] = []
    best = -1
    for shown in seqs:
        best = max(best, shown)
        running.append(best)
    lags: list[float] = []
    unseen = 0
    for seq, committed in commits:
        i = bisect.bisect_left(running, seq)
        if i == len(running):
            unseen += 1
            continue
        lags.append(max(0.0, at[i] - committed))
    return lags, unseen


def loss_pct(alone: float, together: float) -> float | None:
    """Throughput lost to the analytic load, in percent: 100 × (1 − together / alone)."""
    if alone <= 0:
        return None
    return round(100.0 * (1.0 - together / alone), 1)
