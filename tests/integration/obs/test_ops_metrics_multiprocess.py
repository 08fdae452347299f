"""Metrics of several processes (issue 22): processes sharing PROMETHEUS_MULTIPROC_DIR are
answered for together — counters summed, pool gauges summed over the live processes only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from yibao.obs import metrics

WORKER = """
import os, sys
from yibao.obs import metrics
for _ in range(int(sys.argv[1])):
    metrics.call("2201", 0, 0.004)
metrics.POOL_IN_USE.labels(pool="write").inc(2)
print(os.getpid())
"""
RENDER = "import sys; from yibao.obs import metrics; sys.stdout.write(metrics.render().decode())"


def _run(code: str, directory: Path, *args: str) -> str:
    env = {**os.environ, metrics.MULTIPROC_ENV: str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def _sample(text: str, prefix: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)
    )


def test_processes_are_answered_for_together(tmp_path: Path) -> None:
    first = int(_run(WORKER, tmp_path, "3"))
    second = int(_run(WORKER, tmp_path, "4"))
    assert first != second
    text = _run(RENDER, tmp_path)
    assert _sample(text, 'yibao_calls_total{infcode="0",infno="2201"}') == 7
    assert _sample(text, 'yibao_call_seconds_count{infno="2201"}') == 7
    assert _sample(text, 'yibao_db_pool_in_use{pool="write"}') == 4

    metrics.process_exited(first, str(tmp_path))  # what the supervisor does for a dead child
    text = _run(RENDER, tmp_path)
    assert _sample(text, 'yibao_db_pool_in_use{pool="write"}') == 2  # only the live one's
    assert _sample(text, 'yibao_calls_total{infcode="0",infno="2201"}') == 7  # counts stay


FORKING = """
import os, sys
from yibao.obs import metrics
metrics.call("2201", 0, 0.004)  # the parent's values exist before the fork
child = os.fork()
if child == 0:
    metrics.call("2201", 0, 0.004)
    metrics.call("2201", 0, 0.004)
    os._exit(0)
os.waitpid(child, 0)
metrics.call("2201", 0, 0.004)
print(child)
"""


def test_a_forked_child_writes_its_own_values(tmp_path: Path) -> None:
    # the pid is kept in memory (no system call per update) and renewed after a fork: the
    # child's updates go to its own file, and the parent's count is not overwritten by them
    child = int(_run(FORKING, tmp_path))
    assert any(str(child) in path.name for path in tmp_path.iterdir())
    text = _run(RENDER, tmp_path)
    assert _sample(text, 'yibao_calls_total{infcode="0",infno="2201"}') == 4
