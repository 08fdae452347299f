"""`yibao kb import/export` and `yibao rules list/show/explain`: a knowledge file is imported in
one transaction with national or Chinese headers, a bad row refuses the whole file naming the row
and the reason, an export reads back unchanged; the rule listing is a top-level JSON list."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.risk.registry import CATEGORIES

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YIBAO_DATABASE_URL", sqlite_url)
    return tmp_path / "data"


def test_import_export_round_trip_and_bad_rows(data_dir: Path, tmp_path: Path) -> None:
    good = tmp_path / "pairs.csv"
    good.write_text(
        "项目A编码,项目B编码,关系,备注,生效日期\n"
        "250301001000000,250305011000000,项目内涵,肝功能,2024-01-01\n"
        "120100002000000,120100003000000,excludes,,2024-01-01\n",
        encoding="utf-8",
    )
    done = runner.invoke(app, ["kb", "import", "item_pairs", str(good)])
    assert done.exit_code == 0, done.output
    assert "2" in done.output
    out = runner.invoke(app, ["kb", "export", "item_pairs"])
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert lines[0] == "hilist_code_a,hilist_code_b,relation,begndate,enddate,memo"
    assert "120100002000000,120100003000000,excludes,2024-01-01,," in lines
    assert "250301001000000,250305011000000,includes,2024-01-01,,肝功能" in lines

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "hilist_code_a,hilist_code_b,relation,begndate\n"
        "A1,B1,includes,2024-01-01\n"
        "A2,B2,sometimes,2024-01-01\n",
        encoding="utf-8",
    )
    refused = runner.invoke(app, ["kb", "import", "item_pairs", str(bad)])
    assert refused.exit_code == 2
    assert "第3行 relation" in refused.output and "nothing imported" in refused.output
    again = runner.invoke(app, ["kb", "export", "item_pairs"])
    assert len(again.output.strip().splitlines()) == 3  # unchanged

    # an XLSX export reads back
    xlsx = tmp_path / "pairs.xlsx"
    assert runner.invoke(app, ["kb", "export", "item_pairs", "--out", str(xlsx)]).exit_code == 0
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None and sheet.max_row == 3
    back = runner.invoke(app, ["kb", "import", "item_pairs", str(xlsx)])
    assert back.exit_code == 0, back.output


def test_limits_need_a_value_and_unknown_tables_are_refused(data_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "drug.csv"
    f.write_text("hilist_code,max_days,begndate\nX1,,2024-01-01\n", encoding="utf-8")
    result = runner.invoke(app, ["kb", "import", "drug_limits", str(f)])
    assert result.exit_code == 2 and "第2行 max_days" in result.output
    result = runner.invoke(app, ["kb", "import", "nope", str(f)])
    assert result.exit_code == 2 and "item_pairs" in result.output
    assert runner.invoke(app, ["kb", "demo"]).exit_code == 0
    tables = runner.invoke(app, ["kb", "tables"])
    assert "consumable_links" in tables.output


def test_rules_list_show_explain(data_dir: Path) -> None:
    listed = runner.invoke(app, ["rules", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rules = json.loads(listed.output)
    assert isinstance(rules, list) and len(rules) >= 20
    keys = {"rule_id", "category", "name", "stages", "result_type", "action", "params",
            "enabled", "version", "begndate", "enddate"}  # fmt: skip
    for r in rules:
        assert keys <= set(r) and isinstance(r["stages"], list)
        assert r["category"] in CATEGORIES
    shown = runner.invoke(app, ["rules", "show", "SPAD-01"])
    assert json.loads(shown.output)["params"]["days"] == 15
    explained = runner.invoke(app, ["rules", "explain", "SPAD-01"])
    assert "分解住院" in explained.output and "参数 days = 15" in explained.output
    missing = runner.invoke(app, ["rules", "show", "NOPE"])
    assert missing.exit_code == 2


def test_a_bad_rule_file_is_one_line(data_dir: Path) -> None:
    (data_dir / "risk").mkdir(parents=True)
    (data_dir / "risk" / "local.toml").write_text(
        '[ruleset]\nadmdvs = "110199"\nversion = "x"\nbegndate = 2025-01-01\n'
        '[[rule]]\nid = "A"\ncategory = "gender_limit"\nresult_type = "violation"\n'
        'action = "explode"\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["rules", "list"])
    assert result.exit_code == 2
    assert "local.toml: rule[0].action" in result.output


def test_serve_stops_on_a_bad_rule_file(data_dir: Path) -> None:
    (data_dir / "risk").mkdir(parents=True)
    (data_dir / "risk" / "local.toml").write_text(
        '[ruleset]\nadmdvs = "110199"\nversion = "x"\nbegndate = 2025-01-01\n'
        '[[rule]]\nid = "A"\ncategory = "split_admission"\nresult_type = "suspicious"\n'
        'action = "warn"\n[rule.params]\ndays = "fifteen"\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "rule[0].params.days" in result.output
