"""`yibao enrol …` on a migrated data directory."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from yibao.cli.enrol import app
from yibao.config import Settings
from yibao.storage.engine import make_null_engine
from yibao.storage.tables import audit_log, psn_insu

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("YIBAO_DATABASE_URL", settings.db_url)
    return settings


def test_institution_credential_and_person_round_trip(env: Settings) -> None:
    ok = runner.invoke(
        app,
        [
            "institution",
            "add",
            "H11010200001",
            "--name",
            "示例医院",
            "--kind",
            "hospital",
            "--level",
            "3",
            "--admdvs",
            "110199",
        ],
    )
    assert ok.exit_code == 0, ok.output
    listed = runner.invoke(app, ["institution", "list"])
    assert "H11010200001" in listed.output and "共 1 家" in listed.output
    issued = runner.invoke(app, ["credential", "issue", "H11010200001"])
    assert issued.exit_code == 0 and "paasToken:" in issued.output, issued.output
    static = runner.invoke(app, ["credential", "issue", "H11010200001", "--mode", "static"])
    assert static.exit_code == 0 and "x-yibao-key:" in static.output
    modes = runner.invoke(app, ["credential", "list", "H11010200001"]).output
    assert "signature" in modes and "static" in modes
    wrong = runner.invoke(app, ["credential", "issue", "H11010200001", "--mode", "plain"])
    assert wrong.exit_code != 0

    added = runner.invoke(
        app,
        [
            "person",
            "add",
            "--certno",
            "110101199003074514",
            "--name",
            "张三",
            "--insutype",
            "310",
            "--psn-type",
            "1101",
            "--admdvs",
            "110199",
            "--tel",
            "13812345678",
        ],
    )
    assert added.exit_code == 0, added.output
    psn_no = added.output.split()[-1]
    shown = runner.invoke(app, ["person", "show", psn_no])
    assert "张*" in shown.output and "110101199003074514" not in shown.output
    assert "1990-03-07" not in shown.output  # the birth date shows its year only
    refused = runner.invoke(app, ["person", "show", psn_no, "--unmask"])
    assert refused.exit_code == 2 and "--purpose" in refused.output
    assert "110101199003074514" not in refused.output
    clear = runner.invoke(
        app, ["person", "show", psn_no, "--unmask", "--purpose", "complaint:TS-1"]
    )
    assert clear.exit_code == 0 and "110101199003074514" in clear.output
    credited = runner.invoke(app, ["person", "credit", psn_no, "88.80", "--reason", "划入"])
    assert credited.exit_code == 0 and "88.80" in credited.output

    engine = make_null_engine(env.db_url)
    with engine.connect() as conn:
        assert conn.execute(select(psn_insu.c.balc)).scalar_one() == Decimal("88.80")
        actors = set(conn.execute(select(audit_log.c.actor)).scalars())
    engine.dispose()
    assert all(a.startswith("cli") for a in actors)


def test_errors_are_one_line_and_exit_non_zero(env: Settings) -> None:
    bad = runner.invoke(app, ["person", "add", "--certno", "110101199003074515", "--name", "张三"])
    assert bad.exit_code == 1
    assert "certno" in bad.output and "校验码" in bad.output
    assert "Traceback" not in bad.output
    missing = runner.invoke(app, ["person", "credit", "NOPE", "1.00", "--reason", "x"])
    assert missing.exit_code == 1 and "psn_no" in missing.output
