"""`yibao codes` exit codes and output."""

from __future__ import annotations

from typer.testing import CliRunner

from yibao.cli.codes import app
from yibao.codes.validators import CodeKind

runner = CliRunner()


def test_valid_code_exits_0() -> None:
    result = runner.invoke(app, ["validate", "certno", "11010519491231002X"])
    assert result.exit_code == 0
    assert "valid" in result.output


def test_invalid_code_exits_1_with_reason() -> None:
    result = runner.invoke(app, ["validate", "certno", "110105194912310021"])
    assert result.exit_code == 1
    assert "校验码错误" in result.output


def test_unknown_kind_exits_2_with_the_kinds() -> None:
    result = runner.invoke(app, ["validate", "icd10", "I10.x00"])
    assert result.exit_code == 2
    assert "chronic_disease" in result.output
    assert "psn_no" in result.output


def test_lenient_acceptance_prints_a_note() -> None:
    result = runner.invoke(app, ["validate", "tcm_herb", "T000100196"])
    assert result.exit_code == 0
    assert "note" in result.output


def test_list_kinds_prints_name_tab_description() -> None:
    result = runner.invoke(app, ["list-kinds"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [k.value for k in CodeKind]
    assert all("\t" in line and line.split("\t")[1] for line in lines)


def test_dict_command() -> None:
    result = runner.invoke(app, ["dict", "chrgitm_lv"])
    assert result.exit_code == 0
    assert "01\t甲类" in result.output
    assert runner.invoke(app, ["dict", "nope"]).exit_code == 2
