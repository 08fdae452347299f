"""`yibao audit verify|export|anchor|purge` on a migrated data directory."""

from __future__ import annotations

import csv
import io
import json
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.config import Settings
from yibao.enrolment import audit
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator
from yibao.storage.engine import make_null_engine
from yibao.storage.tables import audit_log
from yibao.storage.uow import UnitOfWork

runner = CliRunner()
IDS = IdGenerator(6)


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("YIBAO_DATABASE_URL", settings.db_url)
    return settings


def _fill(settings: Settings, days_ago: list[int]) -> list[int]:
    engine = make_null_engine(settings.db_url)
    now = local_naive_now()
    with UnitOfWork(engine) as uow:
        ids = [
            audit.record(uow.conn, ids=IDS, actor="admin", action="param.change",
                         target=f"P{n}", at=now - timedelta(days=d), tenant="agency",
                         role="sysadmin", records=1)
            for n, d in enumerate(days_ago)
        ]  # fmt: skip
        uow.commit()
    engine.dispose()
    return ids


def test_verify_names_the_first_bad_record_and_exits_non_zero(env: Settings) -> None:
    ids = _fill(env, [3, 2, 1, 0])
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output, ok.output
    engine = make_null_engine(env.db_url)
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.audit_id == ids[1]).values(target="X"))
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1 and f"#2 (audit_id {ids[1]})" in bad.output, bad.output
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.audit_id == ids[1]))
    gone = runner.invoke(app, ["audit", "verify"])
    assert gone.exit_code == 1 and "#2" in gone.output and "removed" in gone.output
    engine.dispose()


def test_export_csv_and_json_for_a_period_is_audited(env: Settings, tmp_path: Path) -> None:
    _fill(env, [10, 5, 1])
    today = local_naive_now().date()
    since, until = str(today - timedelta(days=6)), str(today + timedelta(days=1))
    r = runner.invoke(app, ["audit", "export", "--since", since, "--until", until])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["target"] for row in rows] == ["P1", "P2"]
    assert rows[0]["row_hash"] and rows[1]["prev_hash"] == rows[0]["row_hash"]
    out = tmp_path / "audit.json"
    r = runner.invoke(app, ["audit", "export", "--since", since, "--until", until,
                            "--format", "json", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    items = json.loads(out.read_text())
    # the first export is in the trail now, after P2
    assert [i["target"] for i in items][:2] == ["P1", "P2"] and items[2]["action"] == "audit.export"
    assert items[2]["records"] == 2 and items[2]["address"] == "cli"
    bad = runner.invoke(app, ["audit", "export", "--since", "x", "--until", until])
    assert bad.exit_code != 0 and "--since" in bad.output


def test_anchor_then_purge_then_verify_passes(env: Settings, tmp_path: Path) -> None:
    _fill(env, [400, 300, 200, 10, 0])
    anchors = tmp_path / "anchors.jsonl"
    r = runner.invoke(app, ["audit", "anchor", "--out", str(anchors)])
    assert r.exit_code == 0 and '"chain_seq":5' in r.output, r.output
    r = runner.invoke(app, ["audit", "purge", "--yes"])
    assert r.exit_code == 0 and "3 条" in r.output and "#3" in r.output, r.output
    ok = runner.invoke(app, ["audit", "verify", "--anchors", str(anchors)])
    assert ok.exit_code == 0, ok.output
    engine = make_null_engine(env.db_url)
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_log.c.action))]
    engine.dispose()
    assert sorted(actions) == ["audit.purge", "param.change", "param.change"]
    # nothing more to purge; a cutoff inside the retention is refused
    again = runner.invoke(app, ["audit", "purge", "--yes"])
    assert again.exit_code == 0 and "0 条" in again.output
    late = str(datetime.now().date())
    refused = runner.invoke(app, ["audit", "purge", "--yes", "--before", late])
    assert refused.exit_code == 1 and "before" in refused.output
