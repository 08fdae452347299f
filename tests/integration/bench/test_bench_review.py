"""`bench review` runs in process on a store of its own and reports the review's time (the
figures live in bench/RESULTS.md; here only that it measures what it says)."""

from __future__ import annotations

from pathlib import Path

from yibao.bench.review import measure


def test_review_bench_reports_its_figures(tmp_path: Path) -> None:
    result = measure(tmp_path, runs=100)
    assert result["runs"] == 100 and result["bill_lines"] == 20
    assert result["history_visits"] > 100 and result["rules"] >= 20
    assert result["hits_per_review"] > 0
    for key in ("review_ms", "review_cpu_ms"):
        assert set(result[key]) >= {"p50", "p99"}
        assert result[key]["p99"] >= result[key]["p50"] > 0
    assert list(tmp_path.iterdir()) == []  # its store is removed
