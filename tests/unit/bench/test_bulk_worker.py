"""The bulk-worker benchmark runs a small city's chunk and reports every step per settlement."""

from __future__ import annotations

from yibao.bench.bulk_worker import run


def test_bulk_worker_reports_each_step() -> None:
    result = run(persons=200, chunks=1)
    assert result["settlements"] and result["fee_lines"]
    assert result["fee_lines_merged"] == result["fee_lines"]
    per = result["us_per_settlement"]
    assert isinstance(per, dict)
    assert set(per) == {"generate", "settle_and_rows", "spool", "merge", "total"}
    assert all(v > 0 for v in per.values())
