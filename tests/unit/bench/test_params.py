"""Impossible benchmark parameters are refused with a message naming what is allowed."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from yibao.bench.params import (
    BenchParamError,
    LoadParams,
    check_choice,
    check_positive_int,
    check_range,
    check_scenario,
    default_rate,
    parse_mix,
)
from yibao.cli.main import app


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"duration": -1}, "--duration"),
        ({"duration": 0}, "--duration"),
        ({"concurrency": 0}, "--concurrency"),
        ({"concurrency": 100_000}, "--concurrency"),
        ({"reversal_rate": 1.5}, "--reversal-rate"),
        ({"reversal_rate": -0.1}, "--reversal-rate"),
        ({"rate": -3}, "--rate"),
        ({"client": "curl"}, "--client"),
        ({"auth": "basic"}, "--auth"),
        ({"url": "ftp://x"}, "--url"),
        ({"url": "https://x", "client": "raw"}, "--url"),
        ({"ceiling_seconds": -1}, "--ceiling-seconds"),
    ],
)
def test_load_params_refused(changes: dict[str, object], needle: str) -> None:
    with pytest.raises(BenchParamError, match=needle):
        LoadParams(**changes).check()  # type: ignore[arg-type]


def test_defaults_are_valid() -> None:
    assert LoadParams().check().concurrency == 32


def test_scenarios_and_mix() -> None:
    assert check_scenario("settle") == "settle"
    with pytest.raises(BenchParamError, match="allowed: settle, raw-commit"):
        check_scenario("tpcc")
    assert parse_mix("outpatient=1,pharmacy=0.5") == {
        "outpatient": 1.0,
        "inpatient": 0.0,
        "pharmacy": 0.5,
    }
    for bad in ("dental=1", "outpatient", "outpatient=-1", "outpatient=x", "outpatient=0"):
        with pytest.raises(BenchParamError, match="--mix"):
            parse_mix(bad)
    with pytest.raises(BenchParamError, match="--settlements"):
        check_positive_int("--settlements", -5)


@pytest.mark.parametrize(
    "args",
    [
        ["bench", "no-such-scenario"],
        ["bench", "settle", "--duration", "-5"],
        ["bench", "settle", "--reversal-rate", "1.01"],
        ["bench", "analytics", "--settlements", "-1"],
        ["bench", "interference", "--viewers", "0"],
        ["bench", "interference", "--viewers", "-5"],
        ["bench", "interference", "--rounds", "0"],
        ["bench", "interference", "--refresh", "0"],
        ["bench", "freshness", "--rate", "-1"],
        ["bench", "freshness", "--probe", "dashboard"],
        ["bench", "freshness", "--consistency", "eventual"],
        ["bench", "freshness", "--poll-ms", "-1"],
        ["bench", "freshness", "--grace", "1000"],
        ["bench", "freshness", "--reversal-rate", "1.5"],
        ["bench", "analytics", "--repeat", "0"],
    ],
)
def test_cli_exits_2_with_a_message(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "allowed" in result.output or "须" in result.output


def test_choices_and_ranges() -> None:
    assert check_choice("--probe", "summary", ("summary", "position")) == "summary"
    with pytest.raises(BenchParamError, match=r"--probe: .*allowed: summary, position"):
        check_choice("--probe", "dash", ("summary", "position"))
    assert check_range("--grace", 0, 0, 600) == 0
    assert check_range("--refresh", 0.5, 0, 60, low_open=True) == 0.5
    with pytest.raises(BenchParamError, match=r"--refresh: 须在 \(0, 60\]"):
        check_range("--refresh", 0, 0, 60, low_open=True)
    with pytest.raises(BenchParamError, match=r"--poll-ms: 须在 \[0, 10000\]"):
        check_range("--poll-ms", 10_001, 0, 10_000)
    with pytest.raises(BenchParamError):
        check_range("--grace", float("nan"), 0, 600)


def test_default_rate_states_the_freshness_load() -> None:
    assert default_rate("freshness", None) == 20.0
    assert default_rate("freshness", 5.0) == 5.0
    assert default_rate("settle", None) == 0.0
    assert default_rate("interference", None) == 0.0
