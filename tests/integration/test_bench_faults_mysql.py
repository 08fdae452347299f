"""`yibao bench faults --mysql-outage`, small: the MySQL stage alone (`--kills 0 --fuzz-cases
0`) against a private MariaDB it starts for itself (never the shared server), killed once and
frozen once under mixed retrying load. Every answer came within the bound the timeouts give,
the outage answers were `-1 医保数据库暂不可用…`, `/readyz` was never ready while the database
was away and ready after, yibao recovered by itself, nothing was lost or settled twice, sums
and caps held, the log stayed bounded. Needs `mariadbd` (as test_mysql_outage.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yibao.bench.faults import FaultParams, mariadb, run_faults
from yibao.bench.faults.mariadb import available
from yibao.bench.faults.outage import OutageParams
from yibao.cli.bench import FAULT_ZEROS, faults_held
from yibao.cli.main import app
from yibao.errors import ConfigError

OUTAGE_KEYS = {
    "db_outages",
    "db_freezes",
    "db_unavailable_answers",
    "max_answer_s_during_outage",
    "ready_during_outage",
    "recovered_s",
}


@pytest.mark.mysql
@pytest.mark.slow
def test_a_killed_and_a_frozen_mariadb_under_load(tmp_path: Path) -> None:
    if not available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but mariadbd / mariadb-install-db are missing")
        pytest.skip("mariadbd and mariadb-install-db are needed to run a private MariaDB")
    outage = OutageParams(
        clients=4, persons=100, down_s=3.0, frozen_s=4.0, between=(1.0, 2.0), seed=3
    )
    stages: list[str] = []
    result = run_faults(
        FaultParams(
            kills=0, fuzz_cases=0, mysql_outage=True, outage=outage, keep_dir=tmp_path / "run"
        ),
        lambda stage, _done, _total: stages.append(stage),
    )
    assert set(result) >= OUTAGE_KEYS
    assert stages[-1] == "done" and "mysql: down 1/2" in stages and "mysql: frozen 2/2" in stages
    assert result["db_outages"] == 1 and result["db_freezes"] == 1
    assert result["outage_problems"] == [], result["outage_problems"]
    assert result["db_unavailable_answers"] > 0
    assert 0 < result["max_answer_s_during_outage"] <= outage.answer_bound_s
    assert result["ready_during_outage"] is False
    assert result["recovered_s"] is not None
    assert result["confirmed"] > 0
    for key in FAULT_ZEROS:
        assert result[key] == 0, (key, result["samples"])
    assert result["replica_verify_ok"] is True
    mysql = result["params"]["mysql"]
    assert mysql["hung_calls"] == 0 and mysql["tracebacks"] == 0
    assert 1 <= mysql["outage_log_lines"] <= mysql["outage_log_bound"]
    assert mysql["outage_log_lines"] < result["db_unavailable_answers"]  # not a line per call
    assert faults_held(result)


def test_an_outage_problem_fails_the_campaign() -> None:
    good = dict.fromkeys(FAULT_ZEROS, 0) | {"replica_verify_ok": True, "outage_problems": []}
    assert faults_held(good)
    assert not faults_held(good | {"outage_problems": ["/readyz said ready"]})


def test_help_names_the_mysql_stage() -> None:
    result = CliRunner().invoke(app, ["bench", "--help"])
    assert result.exit_code == 0
    assert "--mysql-outage" in result.output


def test_the_stage_refuses_to_start_without_mariadb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mariadb, "MARIADBD", None)
    with pytest.raises(ConfigError, match="mariadbd"):
        mariadb.MariaDB(Path("/nonexistent"))


def test_an_outage_stage_without_a_fault_is_refused() -> None:
    result = CliRunner().invoke(
        app, ["bench", "faults", "--mysql-outage", "--db-outages", "0", "--db-freezes", "0"]
    )
    assert result.exit_code == 2
    assert "--db-outages" in result.output
