"""`yibao risk run` / `yibao risk hits` on a stopped data directory: a run is recorded and
repeatable, bad input exits 2 naming the field and writes nothing, the hits are a top-level
JSON list; `yibao rules list` shows the post-hoc rules with stage post."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.monitoring.plan import RULE_IDS
from yibao.storage.tables import risk_run

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YIBAO_DATABASE_URL", sqlite_url)
    (tmp_path / "data").mkdir(exist_ok=True)
    return tmp_path / "data"


def _runs(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(risk_run)).scalar_one())
    finally:
        engine.dispose()


def test_bad_input_exits_2_naming_the_field_and_writes_nothing(
    data_dir: Path, sqlite_url: str
) -> None:
    backwards = runner.invoke(
        app, ["risk", "run", "--since", "2024-06-30", "--until", "2024-06-01"]
    )
    assert backwards.exit_code == 2 and "since/until" in backwards.output
    unknown = runner.invoke(app, ["risk", "run", "--category", "nope"])
    assert unknown.exit_code == 2 and "category" in unknown.output and "nope" in unknown.output
    bad_day = runner.invoke(app, ["risk", "run", "--since", "2024-13-01"])
    assert bad_day.exit_code == 2 and "--since" in bad_day.output
    hits = runner.invoke(app, ["risk", "hits", "--json", "--category", "nope"])
    assert hits.exit_code == 2 and "--category" in hits.output
    assert _runs(sqlite_url) == 0
    assert not (data_dir / "replica.duckdb").exists()


def test_a_run_is_recorded_and_hits_are_a_top_level_list(data_dir: Path, sqlite_url: str) -> None:
    args = ["risk", "run", "--since", "2024-06-01", "--until", "2024-06-30", "--json"]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output[done.output.index("{") :])
    assert summary["since"] == "2024-06-01" and summary["until"] == "2024-06-30"
    assert summary["hits_found"] == 0 and summary["run_id"]
    assert runner.invoke(app, args).exit_code == 0
    assert _runs(sqlite_url) == 2
    hits = runner.invoke(app, ["risk", "hits", "--json", "--psn-no", "P1"])
    assert hits.exit_code == 0 and json.loads(hits.output) == []


def test_rules_list_shows_the_post_hoc_rules(data_dir: Path) -> None:
    listed = runner.invoke(app, ["rules", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    post = {r["rule_id"]: r for r in json.loads(listed.output) if r["stages"] == ["post"]}
    assert set(RULE_IDS) <= set(post)
    assert post["POST-BENFORD"]["params"]["mad"] == "0.015"
