"""The driver's percentile arithmetic (nearest rank) and its per-transaction summary."""

from __future__ import annotations

import pytest

from yibao.bench.stats import Recorder, loss_pct, percentile, summary_ms, visibility_lags


def test_nearest_rank_on_one_to_hundred() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0


def test_nearest_rank_is_an_observed_value() -> None:
    values = [0.010, 0.020, 0.030, 0.040]
    # ceil(0.5 × 4) = 2 → the second value; ceil(0.99 × 4) = 4 → the largest
    assert percentile(values, 50) == 0.020
    assert percentile(values, 99) == 0.040
    assert percentile([7.0], 1) == 7.0


def test_empty_and_bad_p() -> None:
    assert percentile([], 50) == 0.0
    with pytest.raises(ValueError):
        percentile([1.0], 0)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_in_milliseconds_unsorted_input() -> None:
    assert summary_ms([0.003, 0.001, 0.002]) == {"p50": 2.0, "p95": 3.0, "p99": 3.0}
    assert summary_ms([]) == {"p50": 0.0, "p95": 0.0, "p99": 0.0}


def test_recorder_counts_only_successes_as_calls() -> None:
    rec = Recorder(max_samples=2)
    rec.ok("2207", 0.010)
    rec.ok("2207", 0.030)
    rec.ok("1101", 0.001)
    rec.error("2206", "err one")
    rec.error("2206", "err two")
    rec.error("2206", "err three")
    assert rec.calls == 3
    assert rec.count("2207", "2304", "2102") == 2
    assert rec.error_count == 3
    assert rec.error_samples == ["2206: err one", "2206: err two"]
    per = rec.per_transaction(2.0)
    assert per["2207"]["calls"] == 2 and per["2207"]["calls_per_s"] == 1.0
    assert per["2207"]["latency_ms"] == {"p50": 10.0, "p95": 30.0, "p99": 30.0}
    assert per["2206"] == {
        "calls": 0,
        "calls_per_s": 0.0,
        "latency_ms": {"p50": 0.0, "p95": 0.0, "p99": 0.0},
        "errors": 3,
    }


def test_visibility_lag_is_first_answer_showing_the_seq_minus_commit() -> None:
    at = [10.0, 10.1, 10.2, 10.3]
    seqs = [5, 7, 7, 12]
    commits = [(6, 9.95), (7, 10.05), (8, 10.15), (12, 10.25), (13, 10.28)]
    lags, unseen = visibility_lags(commits, at, seqs)
    # seq 6 and 7 first shown at 10.1, seq 8 and 12 at 10.3; seq 13 never
    assert lags == pytest.approx([0.15, 0.05, 0.15, 0.05])
    assert unseen == 1


def test_visibility_lag_uses_the_running_maximum_and_never_goes_below_zero() -> None:
    # an answer arriving out of order with a lower seq does not hide an earlier one
    lags, unseen = visibility_lags([(9, 1.0)], [1.5, 1.6, 1.7], [9, 3, 9])
    assert lags == pytest.approx([0.5])
    # commit time after the first showing answer (answer-based estimate): clamped at 0
    lags, unseen = visibility_lags([(4, 2.0)], [1.0], [4])
    assert (lags, unseen) == ([0.0], 0)
    assert visibility_lags([(1, 0.0)], [], []) == ([], 1)


def test_loss_pct() -> None:
    assert loss_pct(100.0, 93.0) == 7.0
    assert loss_pct(100.0, 110.0) == -10.0
    assert loss_pct(0.0, 5.0) is None


def test_probe_paths() -> None:
    from yibao.bench.viewers import NO_WAIT_MS, POSITION_PATH, probe_path

    bounded = probe_path("summary", "bounded")
    assert bounded.startswith("/api/v1/analytics/summary?date_from=")
    assert f"consistency=bounded&max_lag_ms={NO_WAIT_MS}" in bounded
    strong = probe_path("summary", "strong")
    assert strong.endswith("consistency=strong") and "max_lag_ms" not in strong
    assert probe_path("position", "strong") == POSITION_PATH
