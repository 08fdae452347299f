"""`yibao bench faults`, small: 3 kills (the server, the applier's process, the server) under mixed retrying load and 300 fuzz
cases against the restarted one; every invariant must hold. Then the checker itself is shown
to see a lost settlement, a wrong balance and a wrong accumulator in the same store."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from yibao.bench import store
from yibao.bench.faults import FaultParams, check, run_faults
from yibao.bench.faults.invariants import balances
from yibao.cli.bench import FAULT_ZEROS, faults_held
from yibao.cli.main import app
from yibao.storage.tables import psn_accum

KEYS = {
    "kills",
    "confirmed",
    "lost",
    "duplicated",
    "balance_mismatches",
    "accumulator_mismatches",
    "cap_exceeded",
    "replica_verify_ok",
    "fuzz_cases",
    "http_5xx",
    "internal_errors",
    "writes_after_refusal",
    "seconds",
    "machine",
}


@pytest.mark.slow
def test_three_kills_lose_nothing_and_the_checker_sees_tampering(tmp_path: Path) -> None:
    city = tmp_path / "city"
    stages: list[str] = []
    result = run_faults(
        FaultParams(kills=3, fuzz_cases=300, persons=100, clients=4, keep_dir=city),
        lambda stage, _done, _total: stages.append(stage),
    )
    assert set(result) >= KEYS
    assert result["kills"] == 3 and stages[-1] == "done"
    # the second kill took only the replica applier's own process, which came back
    assert result["params"]["applier_kills"] == 1
    assert "kill 2/3 (applier)" in stages
    assert result["confirmed"] > 0, result
    for key in FAULT_ZEROS:
        assert result[key] == 0, (key, result["samples"])
    assert result["replica_verify_ok"] is True
    assert result["fuzz_cases"] == 300
    assert faults_held(result)

    # the same store, judged against tampered expectations: each failure is seen
    engine = store.row_store(city)
    try:
        now = balances(engine)
        assert check(engine, {}, now).balance_mismatches > 0  # settlements paid from accounts
        lost = check(engine, {"NO-SUCH-SETTLEMENT": "m1"}, {})
        assert lost.lost == 1
        with engine.begin() as conn:
            row = conn.execute(psn_accum.select().limit(1)).first()
            assert row is not None
            conn.execute(
                update(psn_accum)
                .where(
                    psn_accum.c.psn_no == row.psn_no,
                    psn_accum.c.year == row.year,
                    psn_accum.c.acc_key == row.acc_key,
                )
                .values(amount=Decimal(row.amount) - Decimal("1000000.00"))
            )
        tampered = check(engine, {}, {})
        assert tampered.cap_exceeded >= 1  # an accumulator below zero
        if row.acc_key.endswith(("pool_paid", ".paid")):
            assert tampered.accumulator_mismatches >= 1
    finally:
        engine.dispose()


def test_faults_held_needs_every_zero_and_a_consistent_replica() -> None:
    good = dict.fromkeys(FAULT_ZEROS, 0) | {"replica_verify_ok": True}
    assert faults_held(good)
    assert not faults_held(good | {"replica_verify_ok": False})
    for key in FAULT_ZEROS:
        assert not faults_held(good | {key: 1})


def test_bad_kills_are_refused_before_anything_runs() -> None:
    result = CliRunner().invoke(app, ["bench", "faults", "--kills", "-1"])
    assert result.exit_code == 2
    assert "--kills" in result.output


def test_help_teaches_the_campaign() -> None:
    result = CliRunner().invoke(app, ["bench", "--help"])
    assert result.exit_code == 0
    assert "--kills" in result.output and "--fuzz-cases" in result.output
    assert "SIGKILL" in result.output
