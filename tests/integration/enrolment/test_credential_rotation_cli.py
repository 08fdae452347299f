"""`yibao enrol credential rotate|list`: a successor printed once, the old one in its overlap."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from yibao.cli.enrol import app
from yibao.config import Settings

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("YIBAO_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("YIBAO_CREDENTIAL_OVERLAP_S", "600")
    return settings


def test_rotate_then_list(env: Settings) -> None:
    added = runner.invoke(app, ["institution", "add", "H11010200001", "--name", "示例医院",
                                "--kind", "hospital", "--level", "3", "--admdvs", "110199"])  # fmt: skip
    assert added.exit_code == 0, added.output
    issued = runner.invoke(app, ["credential", "issue", "H11010200001", "--mode", "static"])
    old = re.search(r"x-tif-paasid: (\S+)", issued.output)
    assert old is not None
    rotated = runner.invoke(app, ["credential", "rotate", "H11010200001", old.group(1)])
    assert rotated.exit_code == 0, rotated.output
    assert "x-yibao-key:" in rotated.output and "valid until" in rotated.output
    new = re.search(r"x-tif-paasid: (\S+)", rotated.output)
    assert new is not None and new.group(1) != old.group(1)
    listed = runner.invoke(app, ["credential", "list", "H11010200001"]).output
    assert "overlap  " in listed and "active" in listed and "refused=0" in listed
    assert f"→ {new.group(1)}" in listed
    twice = runner.invoke(app, ["credential", "rotate", "H11010200001", old.group(1)])
    assert twice.exit_code != 0 and "already rotated" in twice.output
