"""`yibao catalog` commands: exit codes, reports, and that `yibao codes`/`catalog` are registered."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalog_factories import GOOD_ROWS, NATIONAL, write_csv
from typer.testing import CliRunner

from yibao.cli.main import app

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YIBAO_DATABASE_URL", sqlite_url)
    return tmp_path


def test_import_all_good_exits_0(data_dir: Path) -> None:
    path = write_csv(data_dir / "c.csv", NATIONAL, GOOD_ROWS)
    result = runner.invoke(app, ["catalog", "import", str(path), "--ver", "T1"])
    assert result.exit_code == 0, result.output
    assert "version 1" in result.output
    listed = runner.invoke(app, ["catalog", "versions"])
    assert listed.exit_code == 0 and "T1" in listed.output
    shown = runner.invoke(app, ["catalog", "show", GOOD_ROWS[0][0]])
    assert shown.exit_code == 0 and "地喹氯铵含片" in shown.output
    assert runner.invoke(app, ["catalog", "show", "NOPE"]).exit_code == 1


def test_import_with_rejections_exits_1_and_reports_lines(data_dir: Path) -> None:
    rows = [*GOOD_ROWS, ["XA01", "坏编码", "101", "01", "0", "", "09", "0", "2024-01-01", ""]]
    report = data_dir / "rejected.csv"
    path = write_csv(data_dir / "c.csv", NATIONAL, rows)
    result = runner.invoke(app, ["catalog", "import", str(path), "--report", str(report)])
    assert result.exit_code == 1
    assert "line 7" in result.output and "23位" in result.output
    assert "line" in report.read_text(encoding="utf-8-sig").splitlines()[0]


def test_refused_file_exits_2(data_dir: Path) -> None:
    path = write_csv(data_dir / "c.csv", ["foo", "bar"], [["1", "2"]])
    result = runner.invoke(app, ["catalog", "import", str(path)])
    assert result.exit_code == 2
    assert runner.invoke(app, ["catalog", "import", str(path), "--kind", "nope"]).exit_code == 2


def test_demo_command_is_idempotent(data_dir: Path) -> None:
    first = runner.invoke(app, ["catalog", "demo"])
    assert first.exit_code == 0 and "applied" in first.output
    second = runner.invoke(app, ["catalog", "demo"])
    assert second.exit_code == 0 and "already" in second.output


def test_codes_registered_on_the_main_app() -> None:
    result = runner.invoke(app, ["codes", "validate", "admdvs", "370102"])
    assert result.exit_code == 0
