"""Practitioners and departments outside the gateway: the demo city enrols its departments and
doctors (what 5101/5102 answer), idempotently; `yibao enrol practitioner …` adds, ends and
lists them, audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from yibao.cli.enrol import app
from yibao.config import Settings
from yibao.enrolment import departments, practitioners
from yibao.enrolment.commands_departments import DeptQuery, PracPsnType, PracQuery
from yibao.simulate.demo import demo_params, load_demo
from yibao.simulate.people import make_institutions
from yibao.storage.engine import make_null_engine
from yibao.storage.tables import audit_log, fixmedins_prac

runner = CliRunner()


def test_demo_city_enrols_its_departments_and_doctors(tmp_path: Path, engine: Engine) -> None:
    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    load_demo(engine, data_dir, persons=50)
    load_demo(engine, data_dir, persons=50)  # idempotent: nothing twice
    city = make_institutions(demo_params(50), demo=True)
    hospital = next(i for i in city if i.kind == "hospital")
    pharmacy = next(i for i in city if i.kind == "pharmacy")
    with engine.connect() as conn:
        depts = departments.query(conn, DeptQuery(), fixmedins_code=hospital.fixmedins_code)
        assert [d["hosp_dept_codg"] for d in depts] == sorted(
            d.dept_code for d in hospital.departments
        )
        assert all(d["vali_flag"] == "1" and d["caty"] for d in depts)
        doctors = practitioners.query(
            conn, PracQuery(PracPsnType.DOCTOR), fixmedins_code=hospital.fixmedins_code
        )
        assert sorted(d["prac_psn_code"] for d in doctors) == sorted(
            dr.dr_code for dr in hospital.doctors
        )
        assert all(d["hi_dr_flag"] == "1" for d in doctors)
        pharmacists = practitioners.query(
            conn, PracQuery(PracPsnType.PHARMACIST), fixmedins_code=pharmacy.fixmedins_code
        )
        assert len(pharmacists) == len(pharmacy.doctors) > 0


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("YIBAO_DATABASE_URL", settings.db_url)
    return settings


def test_practitioner_cli_add_end_list(env: Settings) -> None:
    code = "H11010200001"
    made = runner.invoke(
        app,
        ["institution", "add", code, "--name", "示例医院", "--kind", "hospital",
         "--level", "2", "--admdvs", "110199"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    added = runner.invoke(
        app,
        ["practitioner", "add", code, "D110199000001", "--name", "李医生", "--hi-dr",
         "--dept", "D01", "--since", "2020-01-01 00:00:00"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    nurse = runner.invoke(
        app, ["practitioner", "add", code, "N110199000001", "--name", "赵护士", "--type", "2"]
    )
    assert nurse.exit_code == 0, nurse.output
    again = runner.invoke(app, ["practitioner", "add", code, "D110199000001", "--name", "李"])
    assert again.exit_code != 0 and "已登记" in again.output
    wrong = runner.invoke(app, ["practitioner", "add", code, "X1", "--name", "x", "--type", "7"])
    assert wrong.exit_code != 0 and "--type" in wrong.output
    nowhere = runner.invoke(app, ["practitioner", "add", "H11010299999", "X2", "--name", "x"])
    assert nowhere.exit_code != 0 and "机构不存在" in nowhere.output

    listed = runner.invoke(app, ["practitioner", "list", code])
    assert "D110199000001" in listed.output and "医保医师" in listed.output
    assert "共 2 人" in listed.output
    ended = runner.invoke(app, ["practitioner", "end", code, "N110199000001", "--reason", "调离"])
    assert ended.exit_code == 0, ended.output
    assert "共 1 人" in runner.invoke(app, ["practitioner", "list", code]).output
    assert "已注销" in runner.invoke(app, ["practitioner", "list", code, "--all"]).output

    engine = make_null_engine(env.db_url)
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(fixmedins_prac).where(fixmedins_prac.c.prac_psn_code == "N110199000001")
            )
            .mappings()
            .one()
        )
        assert row["vali_flag"] == "0" and row["chg_rea"] == "调离"
        actions = set(conn.execute(select(audit_log.c.action)).scalars())
        assert {"practitioner.add", "practitioner.end"} <= actions
    engine.dispose()
