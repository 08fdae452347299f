"""A catalog import changes prices, limits and payment categories: it is on the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalog_factories import GOOD_ROWS, NATIONAL, write_csv
from sqlalchemy import select
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.storage.engine import make_null_engine
from yibao.storage.tables import audit_log

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YIBAO_DATABASE_URL", sqlite_url)
    return tmp_path


def test_an_applied_import_is_audited_and_a_dry_run_is_not(data_dir: Path, sqlite_url: str) -> None:
    path = write_csv(data_dir / "c.csv", NATIONAL, GOOD_ROWS)
    assert runner.invoke(app, ["catalog", "import", str(path), "--dry-run"]).exit_code == 0
    result = runner.invoke(app, ["catalog", "import", str(path), "--ver", "T1", "--opter", "ops"])
    assert result.exit_code == 0, result.output
    engine = make_null_engine(sqlite_url)
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log)).mappings().all()
    engine.dispose()
    (row,) = rows
    assert row["action"] == "catalog.import" and row["target"] == "T1"
    assert row["actor"] == "cli:ops" and row["records"] == len(GOOD_ROWS)
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
