"""Latency and throughput arithmetic of the driver.

Percentiles use the nearest-rank method: the p-th percentile of n sorted samples is the
sample of rank ceil(p/100 × n) (1-based) — always an observed value, never interpolated.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


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

    #: flows started, by the kind actually played (an inpatient flow with nobody free to
    #: admit plays an outpatient visit and counts as one)
    played: dict[str, int] = field(default_factory=dict)

    def play(self, flow: str) -> None:
        self.played[flow] = self.played.get(flow, 0) + 1

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


#: how far (in share of flows) the played mix may stray from the asked one
MIX_TOLERANCE = 0.05
#: below this many flows the shares are too noisy to judge
MIX_MIN_FLOWS = 200


def mix_report(asked: Mapping[str, float], played: Mapping[str, int]) -> dict[str, Any]:
    """The mix asked (weights as shares) beside the mix played (shares of flows started), and
    the flows whose shares differ by more than `MIX_TOLERANCE` — a benchmark whose workload
    silently changed reports figures for a different workload."""
    total_weight = sum(asked.values())
    total_played = sum(played.values())
    asked_share = {k: (v / total_weight if total_weight else 0.0) for k, v in asked.items()}
    played_share = {
        k: (played.get(k, 0) / total_played if total_played else 0.0) for k in asked_share
    }
    drift = {
        k: round(played_share[k] - asked_share[k], 4)
        for k in asked_share
        if abs(played_share[k] - asked_share[k]) > MIX_TOLERANCE
    }
    judged = total_played >= MIX_MIN_FLOWS
    return {
        "asked": {k: round(v, 4) for k, v in asked_share.items()},
        "played": {k: round(v, 4) for k, v in played_share.items()},
        "flows_played": dict(played),
        "tolerance": MIX_TOLERANCE,
        "judged": judged,
        "drift": drift if judged else {},
        "ok": not (judged and drift),
    }
