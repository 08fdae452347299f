"""`yibao users …`: create users of every role with a tenant, list, change; refusals are one
line; every change is audited as `cli:<os user>`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.storage.tables import agency_user, audit_log

runner = CliRunner()


def test_users_add_list_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "u"
    monkeypatch.setenv("YIBAO_DATA_DIR", str(data))
    assert runner.invoke(app, ["init"]).exit_code == 0
    # an institution role needs an existing institution
    r = runner.invoke(app, ["users", "add", "cash1", "--role", "cashier"])
    assert r.exit_code != 0 and "tenant_code" in r.output and "Traceback" not in r.output
    r = runner.invoke(
        app, ["users", "add", "cash1", "--role", "cashier", "--tenant", "H11010299999"]
    )
    assert r.exit_code != 0 and "机构不存在" in r.output
    r = runner.invoke(app, ["users", "add", "ana1", "--role", "analyst", "--department", "基金科"])
    assert r.exit_code == 0, r.output
    assert "shown once" in r.output
    r = runner.invoke(app, ["users", "add", "weak", "--role", "analyst", "--password", "weak"])
    assert r.exit_code != 0 and "password" in r.output
    listed = runner.invoke(app, ["users", "list"])
    assert listed.exit_code == 0
    assert ["ana1", "analyst", "agency", "ana1", "有效"] in [
        line.split() for line in listed.output.splitlines()
    ]
    # 三权分立: an analyst never becomes the auditor
    r = runner.invoke(app, ["users", "change", "ana1", "--role", "auditor"])
    assert r.exit_code != 0 and "三权分立" in r.output
    r = runner.invoke(app, ["users", "change", "ana1", "--role", "reviewer", "--disable"])
    assert r.exit_code == 0, r.output
    engine = create_engine(f"sqlite:///{data / 'yibao.db'}")
    with engine.connect() as conn:
        row = conn.execute(
            select(agency_user.c.role, agency_user.c.vali_flag, agency_user.c.department).where(
                agency_user.c.username == "ana1"
            )
        ).one()
        actors = conn.execute(
            select(audit_log.c.actor, audit_log.c.action).where(audit_log.c.target == "ana1")
        ).all()
    engine.dispose()
    assert tuple(row) == ("reviewer", "0", "基金科")
    assert {a for _, a in actors} == {"user.create", "user.change"}
    assert all(actor.startswith("cli") for actor, _ in actors)
