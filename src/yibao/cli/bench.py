"""`yibao bench SCENARIO` — benchmarks (docs/bench.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yibao.bench import scenarios
from yibao.bench.faults import FaultParams, run_faults
from yibao.bench.faults.outage import OutageParams
from yibao.bench.fuzz.scenario import run_fuzz_scenario
from yibao.bench.params import (
    DEFAULT_PERSONS,
    SCENARIOS,
    BenchParamError,
    LoadParams,
    check_choice,
    check_day,
    check_positive_int,
    check_range,
    check_scenario,
    default_rate,
    parse_mix,
)
from yibao.bench.viewers import CONSISTENCIES, PROBES
from yibao.cli.common import console, err_console, fail, friendly_errors
from yibao.kit.files import write_private
from yibao.kit.jsonx import dumps


def _print(result: dict[str, Any]) -> None:
    table = Table(title=f"yibao bench {result['scenario']}", show_header=False)
    for key, value in result.items():
        if key in (
            "machine",
            "params",
            "per_transaction",
            "driver_ceiling",
            "queries",
            "rounds",
            "samples",
        ):
            continue
        table.add_row(key, str(value))
    console.print(table)
    per = result.get("per_transaction")
    if per:
        t = Table(title="per transaction")
        for col in ("infno", "calls", "calls/s", "p50 ms", "p95 ms", "p99 ms", "errors"):
            t.add_column(col, justify="right")
        for infno, row in per.items():
            lat = row["latency_ms"]
            t.add_row(
                infno,
                str(row["calls"]),
                str(row["calls_per_s"]),
                str(lat["p50"]),
                str(lat["p95"]),
                str(lat["p99"]),
                str(row["errors"]),
            )
        console.print(t)
    queries = result.get("queries")
    if queries:
        t = Table(title="dashboard queries (median ms)")
        for col in ("query", "replica ms", "row store ms", "ratio", "same rows"):
            t.add_column(col, justify="right")
        for q in queries:
            t.add_row(
                q["name"], str(q["replica_ms"]), str(q["rowstore_ms"]), str(q["ratio"]),
                str(q["same_rows"]),
            )  # fmt: skip
        console.print(t)
    for sample in result.get("samples") or ():
        console.print(f"failed: {sample}", markup=False)
    console.print(f"machine: {result.get('machine')}")
    console.print(f"params: {result.get('params')}")


def register(app: typer.Typer) -> None:
    @app.command()
    def bench(
        scenario: str = typer.Argument(..., help=f"One of: {', '.join(SCENARIOS)}."),
        url: str = typer.Option("http://127.0.0.1:8000", help="The server under test."),
        duration: float = typer.Option(10.0, help="Seconds of measured load."),
        concurrency: int = typer.Option(32, help="Concurrent virtual clients (keep-alive)."),
        client: str = typer.Option("raw", help="HTTP client of the driver: raw or httpx."),
        auth: str = typer.Option(
            "signature",
            help="How the driver authenticates: signature (signs every request, as real "
            "clients do) or static (x-yibao-key), to compare.",
        ),
        mix: str = typer.Option(
            None, help="Flow weights, e.g. outpatient=0.7,inpatient=0.05,pharmacy=0.25."
        ),
        reversal_rate: float = typer.Option(0.02, help="Share of settlements reversed (0–1)."),
        persons: int = typer.Option(
            DEFAULT_PERSONS,
            help="settle, freshness, interference: persons the run enrols for itself and plays "
            "in turn (each visits once before anyone visits twice), so that no run inherits "
            "the histories of earlier ones; 0 plays the fixtures' persons instead.",
        ),
        rate: float = typer.Option(
            None,
            help="Flows started per second (0 = closed loop; default 0, freshness 20).",
        ),
        ceiling_seconds: float = typer.Option(
            3.0, help="Seconds of the driver-ceiling run against /bench/ping (0 skips)."
        ),
        raw_commit_seconds: float = typer.Option(
            3.0, help="Seconds of the raw-commit yardstick inside other scenarios (0 skips)."
        ),
        settlements: int = typer.Option(
            0, help="analytics: refuse a store with fewer settlements (0 = any size)."
        ),
        repeat: int = typer.Option(
            3,
            help="analytics: measured runs per query (median); review: reviews measured "
            "(below 100: the default 2000).",
        ),
        cases: int = typer.Option(10_000, help="fuzz: mutated envelopes sent."),
        kills: int = typer.Option(
            20, help="faults: times the server is killed with SIGKILL under load (seeded)."
        ),
        fuzz_cases: int = typer.Option(
            10_000, help="faults: mutated envelopes sent to the restarted server (0 skips)."
        ),
        mysql_outage: bool = typer.Option(
            False,
            "--mysql-outage",
            help="faults: also run the MySQL stage — a private MariaDB (its own data "
            "directory and port, never a shared server; needs mariadbd) holding a second demo "
            "city is killed (SIGKILL) and frozen (SIGSTOP, then SIGCONT) under load: answers "
            "within the timeouts, `-1 医保数据库暂不可用`, /readyz not ready, recovery by "
            "itself, nothing lost. With --kills 0 --fuzz-cases 0 only this stage runs.",
        ),
        db_outages: int = typer.Option(
            1, help="faults --mysql-outage: times MariaDB is killed (SIGKILL) and restarted."
        ),
        db_freezes: int = typer.Option(
            1, help="faults --mysql-outage: times MariaDB is frozen (SIGSTOP, 6 s, SIGCONT)."
        ),
        keep_dir: Path = typer.Option(
            None,
            help="faults: build the campaign's city in this (new or empty) directory and keep "
            "it, with the server's log serve.log, instead of a temporary one.",
        ),
        day: str = typer.Option(
            None, help="analytics: the dashboard's day, yyyy-MM-dd (default: last busy day)."
        ),
        viewers: int = typer.Option(5, help="interference: dashboard viewers."),
        refresh: float = typer.Option(
            1.0, help="interference: seconds between a viewer's dashboard refreshes."
        ),
        rounds: int = typer.Option(
            1, help="interference: alternations of (alone, with viewers), summed."
        ),
        probe: str = typer.Option(
            "summary", help="freshness: summary (today's summary) or position (applied seq)."
        ),
        consistency: str = typer.Option(
            None,
            help="Analytic reads: bounded or strong (freshness probe: bounded; "
            "interference viewers: bounded within 500 ms, like the page).",
        ),
        poll_ms: float = typer.Option(10.0, help="freshness: pause between probe answers (ms)."),
        grace: float = typer.Option(
            10.0, help="freshness: seconds to keep polling after the load for the last changes."
        ),
        seed: int = typer.Option(1, help="Random seed of the driver."),
        data_dir: Path = typer.Option(
            None, help="Data directory with demo-fixtures.json (default YIBAO_DATA_DIR or ./var)."
        ),
        json_out: Path = typer.Option(None, "--json", help="Also write the result as JSON here."),
    ) -> None:
        """Run a benchmark scenario against a running server and print its figures, the
        machine and the parameters (settle, raw-commit, freshness, interference, analytics,
        fuzz, faults, review).

        review needs no server: it times the real-time review of a 20-line bill with a year
        of history in process (docs/review.md). Example: yibao bench review --repeat 2000

        faults is the reliability campaign (docs/reliability.md) and needs no running server:
        it builds a demo city of its own in a temporary directory, starts `yibao serve`,
        drives mixed outpatient/inpatient/pharmacy flows whose clients resend an unanswered
        call with the same msgid, kills the server with SIGKILL --kills times at seeded
        random moments and restarts it; then checks that every confirmed settlement is
        stored once, no msgid settled twice, balances and accumulators equal the sums of the
        settlements, no cap broken, `replica verify` consistent; and sends --fuzz-cases
        mutated envelopes to the restarted server. With --mysql-outage it then kills and
        freezes a private MariaDB under load (docs/reliability.md, "The row store away").
        Exit 1 when any invariant fails.
        Example: yibao bench faults --kills 20 --mysql-outage --json faults.json"""
        try:
            check_scenario(scenario)
            params = LoadParams(
                url=url,
                duration=duration,
                concurrency=concurrency,
                client=client,
                auth=auth,
                mix=parse_mix(mix),
                reversal_rate=reversal_rate,
                rate=default_rate(scenario, rate),
                ceiling_seconds=ceiling_seconds,
                seed=seed,
                persons=persons,
            ).check()
            if not 0 <= raw_commit_seconds <= 3600:
                raise BenchParamError(
                    f"--raw-commit-seconds: 须在 [0, 3600] (0 skips), got {raw_commit_seconds}"
                )
            check_positive_int("--settlements", settlements, minimum=0)
            check_positive_int(
                "--repeat", repeat, maximum=1_000_000 if scenario == "review" else 100
            )
            check_positive_int("--cases", cases, maximum=10_000_000)
            check_positive_int("--kills", kills, minimum=0, maximum=10_000)
            check_positive_int("--fuzz-cases", fuzz_cases, minimum=0, maximum=10_000_000)
            check_positive_int("--db-outages", db_outages, minimum=0, maximum=100)
            check_positive_int("--db-freezes", db_freezes, minimum=0, maximum=100)
            if mysql_outage and db_outages + db_freezes == 0:
                raise BenchParamError(
                    "--mysql-outage: --db-outages 与 --db-freezes 不能都为 0 (the MySQL stage "
                    "needs at least one fault)"
                )
            check_positive_int("--viewers", viewers, maximum=1000)
            check_positive_int("--rounds", rounds, maximum=20)
            check_range("--refresh", refresh, 0, 3600, low_open=True)
            check_choice("--probe", probe, PROBES)
            if consistency is None:
                consistency = "bounded"
            check_choice("--consistency", consistency, CONSISTENCIES)
            check_range("--poll-ms", poll_ms, 0, 10_000)
            check_range("--grace", grace, 0, 600)
            the_day = check_day("--day", day)
        except BenchParamError as exc:
            fail(str(exc), 2)
        directory = data_dir or Path(os.environ.get("YIBAO_DATA_DIR") or "./var")

        def progress(message: str) -> None:
            err_console.print(f"[dim]{message}[/]")

        with friendly_errors():
            if scenario == "raw-commit":
                result = scenarios.run_raw_commit(directory, duration)
            elif scenario == "review":
                result = scenarios.run_review(directory, runs=repeat if repeat >= 100 else 2000)
            elif scenario == "settle":
                result = scenarios.run_settle(
                    params, directory, raw_commit_seconds=raw_commit_seconds, progress=progress
                )
            elif scenario == "fuzz":
                result = run_fuzz_scenario(
                    url, directory, cases=cases, seed=seed, progress=progress
                )
            elif scenario == "faults":
                result = _faults(
                    FaultParams(
                        kills=kills,
                        fuzz_cases=fuzz_cases,
                        seed=seed,
                        keep_dir=keep_dir,
                        mysql_outage=mysql_outage,
                        outage=OutageParams(outages=db_outages, freezes=db_freezes, seed=seed),
                    )
                )
            elif scenario == "freshness":
                result = scenarios.run_freshness(
                    params,
                    directory,
                    probe=probe,
                    consistency=consistency,
                    poll_ms=poll_ms,
                    grace_s=grace,
                    progress=progress,
                )
            elif scenario == "interference":
                result = scenarios.run_interference(
                    params,
                    directory,
                    viewers=viewers,
                    period_s=refresh,
                    rounds=rounds,
                    consistency=consistency,
                    progress=progress,
                )
            else:
                result = scenarios.run_analytics(
                    directory,
                    repeat=repeat,
                    min_settlements=settlements,
                    day=the_day,
                    progress=progress,
                )
        _print(result)
        if json_out is not None:
            write_private(json_out, dumps(result).decode() + "\n")
            console.print(f"JSON: {json_out}")
        played_mix = result.get("mix")
        if isinstance(played_mix, dict) and played_mix.get("ok") is False:
            fail(
                "工作负载漂移 (the mix played is not the mix asked: "
                + ", ".join(f"{k} {v:+.1%}" for k, v in played_mix["drift"].items())
                + "; these figures are for another workload — see `mix` in the result)"
            )
        if scenario == "faults" and not faults_held(result):
            fail("不变量未保持 (an invariant failed: see the figures and samples above)")


#: the faults figures that must be zero (and `replica_verify_ok` true) for the campaign to pass
FAULT_ZEROS = (
    "lost",
    "duplicated",
    "balance_mismatches",
    "accumulator_mismatches",
    "cap_exceeded",
    "http_5xx",
    "internal_errors",
    "writes_after_refusal",
)


def faults_held(result: dict[str, Any]) -> bool:
    """Every invariant zero, the replica consistent, and the MySQL stage (when it ran) without
    a problem (`outage_problems`: a slow answer, /readyz ready during the outage, no recovery,
    an unbounded log)."""
    return (
        bool(result["replica_verify_ok"])
        and all(result[k] == 0 for k in FAULT_ZEROS)
        and not result.get("outage_problems")
    )


def _faults(params: FaultParams) -> dict[str, Any]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
    ) as bar:
        task = bar.add_task("faults", total=params.kills + 4)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"faults: {stage}", completed=done, total=total)

        return run_faults(params, progress)
