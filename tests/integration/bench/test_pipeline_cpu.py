"""`python -m yibao.bench.pipeline_cpu` plays the benchmark's flows through the call pipeline in
its own process and reports the CPU a call, the calls by transaction and no errors."""

from __future__ import annotations

import gc

from yibao.bench import pipeline_cpu
from yibao.runtime import Platform
from yibao.simulate.demo import load_demo


def test_the_flows_play_through_the_pipeline_without_errors(platform: Platform) -> None:
    data_dir = platform.settings.data_dir
    load_demo(platform.db.engine, data_dir, persons=200)
    platform.close()
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    result = pipeline_cpu.run(data_dir, flows=40, concurrency=4, persons=40, seed=3)
    # it measures with the server's collector settings and leaves the process's as they were
    assert gc.get_threshold() == thresholds and gc.get_freeze_count() == frozen
    assert result["errors"] == 0 and result["warm_up_errors"] == 0, result["error_samples"]
    by_infno = result["calls_by_infno"]
    assert by_infno.get("2207", 0) > 0 and by_infno.get("1101", 0) > 0
    assert result["calls"] == sum(by_infno.values())
    assert result["cpu_ms_per_call"] > 0
    assert sum(result["flows_played"].values()) == 40


def test_the_quiet_figure_is_the_lower_quartile_of_the_chunks() -> None:
    # four chunks of 100 calls at 1, 2, 3 and 10 ms a call (cumulative CPU seconds, calls)
    marks = [(0.0, 0), (0.1, 100), (0.3, 200), (0.6, 300), (1.6, 400)]
    quiet = pipeline_cpu._quiet(marks)
    assert quiet is not None and 1.0 <= quiet < 2.0
    assert pipeline_cpu._quiet(marks[:3]) is None  # too few chunks to say
