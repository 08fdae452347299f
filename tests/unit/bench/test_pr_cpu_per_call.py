"""CPU per call from /proc: the stat parse, the roles, the division."""

import os

import pytest

from yibao.bench.cpu_per_call import TICKS, calls_of, parse_stat, per_call, role, snapshot


def test_stat_is_read_after_the_command_name_even_with_spaces() -> None:
    fields = ["S"] + ["0"] * 10 + [str(3 * TICKS), str(TICKS)] + ["0"] * 30
    assert parse_stat(f"123 (py thon) (x) {' '.join(fields)}") == 4.0


def test_roles_from_the_command_line() -> None:
    base = "python -c from yibao.cli.main import app; app() serve"
    assert role(f"{base} --role gateway --analytics-url http://x") == "gateway"
    assert role(f"{base} --role analytics --port 1") == "analytics"
    assert role(f"{base} --port 8000") == "supervisor"


def test_per_call_by_role_and_new_processes_count_from_zero() -> None:
    before = {1: ("supervisor", 1.0), 2: ("gateway", 10.0)}
    after = {1: ("supervisor", 1.0), 2: ("gateway", 12.0), 3: ("analytics", 0.5)}
    out = per_call(before, after, 1000)
    assert out["cpu_ms_per_call"] == {"analytics": 0.5, "gateway": 2.0, "supervisor": 0.0}
    assert out["cpu_ms_per_call_total"] == 2.5
    with pytest.raises(ValueError):
        per_call(before, after, 0)


def test_calls_are_summed_over_transactions() -> None:
    assert calls_of({"per_transaction": {"1101": {"calls": 3}, "2207": {"calls": 2}}}) == 5


def test_a_live_snapshot_of_this_process() -> None:
    mine = snapshot(os.getpid())
    assert mine[os.getpid()][0] == "supervisor" and mine[os.getpid()][1] >= 0
