"""`yibao bench faults`: the kill -9 campaign (issue 23), then the fuzz stage, against a demo
city of its own in a temporary data directory."""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yibao.bench import store
from yibao.bench.faults.invariants import balances, check
from yibao.bench.faults.load import Ledger, RetryingSession
from yibao.bench.faults.outage import OutageParams, run_outage_stage
from yibao.bench.faults.server import Server, free_port, replica_verify, run_cli
from yibao.bench.fixtures import load_fixtures
from yibao.bench.flows import Admissions
from yibao.bench.fuzz.scenario import run_fuzz_scenario
from yibao.bench.machine import machine
from yibao.policy import load_book

#: outpatient, inpatient, pharmacy shares of the flows
MIX = (0.6, 0.15, 0.25)

#: (stage, done, total): the CLI draws it as a progress bar
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class FaultParams:
    kills: int = 20
    fuzz_cases: int = 10_000
    seed: int = 1
    clients: int = 8
    persons: int = 200
    #: seconds of load between two kills: drawn uniformly from this range (seeded)
    between: tuple[float, float] = (0.5, 3.0)
    reversal_rate: float = 0.02
    #: keep the data directory here instead of a temporary one (to look at it afterwards)
    keep_dir: Path | None = None
    #: also run the MySQL stage (`outage`): a private MariaDB killed and frozen under load
    mysql_outage: bool = False
    outage: OutageParams = field(default_factory=OutageParams)

    @property
    def kill_stage(self) -> bool:
        """The SQLite kill and fuzz stages run unless both are 0 and the MySQL stage runs."""
        return not (self.mysql_outage and self.kills == 0 and self.fuzz_cases == 0)


@contextmanager
def _own_sqlite() -> Iterator[None]:
    """The driver's own reads (`bench.store.row_store`, also the fuzz stage's) must open the
    campaign's SQLite city, as the child processes do (`server.child_env`): a database URL in
    the caller's environment is set aside for the campaign's duration."""
    saved = os.environ.pop("YIBAO_DATABASE_URL", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["YIBAO_DATABASE_URL"] = saved


def run_faults(params: FaultParams, progress: Progress) -> dict[str, Any]:
    with _own_sqlite():
        return _run(params, progress)


def _run(params: FaultParams, progress: Progress) -> dict[str, Any]:
    started = time.perf_counter()
    if params.keep_dir is not None:
        params.keep_dir.mkdir(parents=True, exist_ok=True)
        return _stages(params.keep_dir, params, progress, started)
    with tempfile.TemporaryDirectory(prefix="yibao-faults-") as tmp:
        return _stages(Path(tmp), params, progress, started)


def _stages(base: Path, p: FaultParams, progress: Progress, started: float) -> dict[str, Any]:
    result = _campaign(base, p, progress, started) if p.kill_stage else _nothing(p)
    result.update(NO_OUTAGE)
    if p.mysql_outage:
        total = p.kills + 5

        def say(stage: str) -> None:
            progress(stage, total - 1, total)

        stage = run_outage_stage(base / "mysql", p.outage, say)
        _merge(result, stage, p.outage)
        progress("done", total, total)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


#: the MySQL stage's keys when it did not run
NO_OUTAGE: dict[str, Any] = {
    "db_outages": 0,
    "db_freezes": 0,
    "db_unavailable_answers": 0,
    "max_answer_s_during_outage": 0.0,
    "ready_during_outage": False,
    "recovered_s": None,
    "outage_problems": [],
}


def _nothing(p: FaultParams) -> dict[str, Any]:
    """The kill and fuzz stages' keys when they did not run (`--kills 0 --fuzz-cases 0`)."""
    return {
        "scenario": "faults",
        "kills": 0,
        "confirmed": 0,
        "lost": 0,
        "duplicated": 0,
        "balance_mismatches": 0,
        "accumulator_mismatches": 0,
        "cap_exceeded": 0,
        "replica_verify_ok": True,
        "fuzz_cases": 0,
        "http_5xx": 0,
        "internal_errors": 0,
        "writes_after_refusal": 0,
        "seconds": 0.0,
        "machine": machine(),
        "params": {"kills": 0, "fuzz_cases": 0, "seed": p.seed},
        "samples": [],
    }


def _merge(result: dict[str, Any], stage: dict[str, Any], p: OutageParams) -> None:
    """The MySQL stage's figures into the campaign's: its invariants add to the same keys."""
    ledger: Ledger = stage["ledger"]
    found = stage["found"]
    result["confirmed"] += len(ledger.confirmed)
    for key in ("lost", "duplicated", "balance_mismatches", "accumulator_mismatches"):
        result[key] += getattr(found, key)
    result["cap_exceeded"] += found.cap_exceeded
    result["internal_errors"] += ledger.internal_errors
    result["replica_verify_ok"] = bool(result["replica_verify_ok"] and stage["replica_verify_ok"])
    result["db_outages"] = p.outages
    result["db_freezes"] = p.freezes
    result["db_unavailable_answers"] = ledger.db_unavailable
    result["max_answer_s_during_outage"] = round(ledger.max_answer_s_during_outage, 2)
    result["ready_during_outage"] = stage["ready_during_outage"]
    result["recovered_s"] = stage["recovered_s"]
    params = stage["params"]
    problems: list[str] = []
    if ledger.db_unavailable == 0:
        problems.append("no call was answered 医保数据库暂不可用 while the database was away")
    if ledger.max_answer_s_during_outage > p.answer_bound_s:
        problems.append(
            f"an answer took {ledger.max_answer_s_during_outage:.2f} s during an outage "
            f"(bound {p.answer_bound_s:.1f} s from the timeouts)"
        )
    if ledger.hung:
        problems.append(f"{ledger.hung} calls had no answer within {p.hang_s:.0f} s (a hang)")
    if stage["ready_during_outage"]:
        problems.append("/readyz said ready while the database was away")
    if stage["recovered_s"] is None:
        problems.append("yibao did not recover by itself after the database returned")
    if not stage["log_ok"]:
        problems.append(
            f"log not bounded: {params['outage_log_lines']} outage lines "
            f"(bound {params['outage_log_bound']}), {params['tracebacks']} tracebacks"
        )
    result["outage_problems"] = problems
    result["params"]["mysql"] = params
    result["samples"] = [*result["samples"], *(found.samples or [])][:40]


def _campaign(data_dir: Path, p: FaultParams, progress: Progress, started: float) -> dict[str, Any]:
    total = p.kills + 4
    port = free_port()
    progress("demo city", 0, total)
    run_cli(data_dir, port, "demo", "--persons", str(p.persons), "--history-days", "0")
    fixtures = load_fixtures(data_dir)
    engine = store.row_store(data_dir)
    server = Server(data_dir, port)
    try:
        before = balances(engine)
        server.start()
        progress("load", 1, total)
        ledger = Ledger()

        async def load_and_kill() -> None:
            rng = random.Random(p.seed)
            admissions = Admissions()
            stop = asyncio.Event()
            sessions = [
                RetryingSession(
                    server.url,
                    fixtures,
                    random.Random(rng.random()),
                    ledger,
                    admissions,
                    reversal_rate=p.reversal_rate,
                )
                for _ in range(p.clients)
            ]
            tasks = [asyncio.create_task(s.run(stop, MIX)) for s in sessions]
            try:
                for k in range(p.kills):
                    await asyncio.sleep(rng.uniform(*p.between))
                    # every second kill takes only the replica applier's own process
                    if k % 2 == 1 and await asyncio.to_thread(server.kill_applier) is not None:
                        progress(f"kill {k + 1}/{p.kills} (applier)", 2 + k, total)
                        continue
                    server.kill()
                    await asyncio.to_thread(server.start)
                    progress(f"kill {k + 1}/{p.kills}", 2 + k, total)
                # a last stretch of load after the last restart: the retried calls land
                await asyncio.sleep(rng.uniform(*p.between))
            finally:
                stop.set()
                await asyncio.gather(*tasks)

        asyncio.run(load_and_kill())
        progress("invariants", 2 + p.kills, total)
        verify_ok = replica_verify(data_dir, port)
        found = check(engine, ledger.confirmed, before, book=load_book([data_dir]))
        progress(f"fuzz ({p.fuzz_cases} cases)", 3 + p.kills, total)
        fuzz: dict[str, Any] = (
            run_fuzz_scenario(
                server.url, data_dir, cases=p.fuzz_cases, seed=p.seed, progress=lambda _m: None
            )
            if p.fuzz_cases
            else {"fuzz_cases": 0, "http_5xx": 0, "internal_errors": 0, "writes_after_refusal": 0}
        )
        progress("done", total, total)
    finally:
        server.stop()
        engine.dispose()
    restarts = server.restarts[1:]
    return {
        "scenario": "faults",
        "kills": p.kills,
        "confirmed": len(ledger.confirmed),
        "lost": found.lost,
        "duplicated": found.duplicated,
        "balance_mismatches": found.balance_mismatches,
        "accumulator_mismatches": found.accumulator_mismatches,
        "cap_exceeded": found.cap_exceeded,
        "replica_verify_ok": verify_ok,
        "fuzz_cases": fuzz["fuzz_cases"],
        "http_5xx": fuzz["http_5xx"],
        "internal_errors": fuzz["internal_errors"],
        "writes_after_refusal": fuzz["writes_after_refusal"],
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "params": {
            "kills": p.kills,
            "fuzz_cases": p.fuzz_cases,
            "seed": p.seed,
            "clients": p.clients,
            "persons": p.persons,
            "flows": ledger.flows,
            "retries": ledger.retries,
            "abandoned": ledger.abandoned,
            "refused_calls": ledger.refused,
            "refusals": dict(ledger.refusals.most_common(8)),
            "settlements_in_store": found.settlements,
            "restart_s": [round(min(restarts), 2), round(max(restarts), 2)] if restarts else [],
            "applier_kills": len(server.applier_restarts),
            "applier_restart_s": (
                [round(min(server.applier_restarts), 2), round(max(server.applier_restarts), 2)]
                if server.applier_restarts
                else []
            ),
        },
        "samples": [*(found.samples or []), *list(fuzz.get("samples") or [])][:40],
    }
