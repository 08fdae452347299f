"""`yibao regions list|clearing` and `yibao enrol remote-registration add|list|show|revoke`."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from yibao.cli.main import app

runner = CliRunner()


def test_regions_and_remote_registrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")
    assert runner.invoke(app, ["init"]).exit_code == 0
    listed = runner.invoke(app, ["regions", "list"])
    assert listed.exit_code == 0, listed.output
    assert "110199" in listed.output and "131099" in listed.output and "reduce" in listed.output

    person = runner.invoke(
        app,
        [
            "enrol", "person", "add", "--certno", "13100219900307451X", "--name", "赵六",
            "--insutype", "310", "--psn-type", "1101", "--admdvs", "131099", "--psn-no", "P9",
        ],
    )  # fmt: skip
    assert person.exit_code == 0, person.output
    reg = ["enrol", "remote-registration"]
    missing_end = runner.invoke(
        app, [*reg, "add", "P9", "--area", "110199", "--type", "temporary", "--from", "2024-01-01"]
    )
    assert missing_end.exit_code == 1 and "enddate" in missing_end.output
    added = runner.invoke(
        app,
        [*reg, "add", "P9", "--area", "110199", "--type", "temporary", "--from", "2024-01-01",
         "--until", "2024-06-30"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    reg_id = next(
        line.split(": ")[1]
        for line in added.output.splitlines()
        if line.startswith("remote_reg_id")
    )
    shown = runner.invoke(app, [*reg, "list", "--on", "2024-03-01"])
    assert shown.exit_code == 0 and reg_id in shown.output
    revoked = runner.invoke(app, [*reg, "revoke", reg_id, "--reason", "提前返回"])
    assert revoked.exit_code == 0 and "提前返回" in revoked.output
    after = runner.invoke(app, [*reg, "show", reg_id])
    assert "vali_flag: 0" in after.output

    report = runner.invoke(app, ["regions", "clearing", "--month", "2024-05"])
    assert report.exit_code == 0, report.output
    assert "131099" in report.output
    bad = runner.invoke(app, ["regions", "clearing", "--month", "May"])
    assert bad.exit_code == 1 and "month" in bad.output
