"""`yibao simulate …` — the synthetic city: bulk load into the data directory, or export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from yibao.bootstrap import init as init_data_dir
from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.simulate.bulk import bulk_load
from yibao.simulate.export import LABELS_FILE, export_city, write_labels
from yibao.simulate.model import ANOMALY_KINDS, DEFAULT_RATES, CityParams, Label
from yibao.simulate.people import MIN_INSTITUTIONS
from yibao.simulate.replica_load import replica_for_load
from yibao.storage.engine import make_engine

app = typer.Typer(help="The synthetic city (docs/simulate.md).", no_args_is_help=True)


def _params(
    seed: int, persons: int, institutions: int, days: int, settlements: int | None,
    start: str, rates: list[str] | None, reversal_rate: float,
) -> CityParams:  # fmt: skip
    if persons < 1:
        fail(f"--persons: 须 ≥ 1 (at least one person), got {persons}", 2)
    if institutions < MIN_INSTITUTIONS:
        fail(
            f"--institutions: 须 ≥ {MIN_INSTITUTIONS} (every kind and level), got {institutions}", 2
        )
    if not 1 <= days <= 3660:
        fail(f"--days: 须在 1–3660, got {days}", 2)
    if settlements is not None and settlements < 1:
        fail(f"--settlements: 须 ≥ 1, got {settlements}", 2)
    if not 0 <= reversal_rate <= 1:
        fail(f"--reversal-rate: 须在 [0, 1], got {reversal_rate}", 2)
    try:
        begin = date.fromisoformat(start)
    except ValueError:
        fail(f"--start: '{start}' 不是日期 (use YYYY-MM-DD)", 2)
    table = dict(DEFAULT_RATES)
    for item in rates or []:
        name, sep, value = item.partition("=")
        if name == "all" and sep:
            names = list(ANOMALY_KINDS)
        elif sep and name in ANOMALY_KINDS:
            names = [name]
        else:
            fail(
                f"--rate: '{item}' (use KEY=rate or all=rate; keys: {', '.join(ANOMALY_KINDS)})",
                2,
            )
        try:
            rate = float(value)
        except ValueError:
            fail(f"--rate: '{value}' 不是数字 (a rate within [0, 1])", 2)
        if not 0 <= rate <= 1:
            fail(f"--rate: {name}={value} 须在 [0, 1] (a probability)", 2)
        for n in names:
            table[n] = rate
    return CityParams(
        seed=seed, persons=persons, institutions=institutions, start=begin, days=days,
        settlements=settlements, rates=table, reversal_rate=reversal_rate,
    )  # fmt: skip


SEED = typer.Option(20240101, help="Random seed (same seed, same city).")
PERSONS = typer.Option(20_000, help="Insured persons.")
INSTS = typer.Option(200, help="Institutions: hospitals, clinics, pharmacy stores.")
DAYS = typer.Option(365, help="Days simulated from --start.")
SETTLEMENTS = typer.Option(None, help="Target settlements (default: ~10 per person-year).")
START = typer.Option("2024-01-01", help="First simulated day.")
RATES = typer.Option(
    None,
    "--rate",
    help=(
        "Injection rate of a risk category KEY=p, e.g. split_admission=0.05 (repeatable; "
        "all=p sets every category; keys and units: docs/simulate.md)."
    ),
)
REVERSAL = typer.Option(0.005, help="Share of settlements reversed later.")


@app.command()
def load(
    seed: int = SEED,
    persons: int = PERSONS,
    institutions: int = INSTS,
    days: int = DAYS,
    settlements: int = SETTLEMENTS,
    start: str = START,
    rate: list[str] = RATES,
    reversal_rate: float = REVERSAL,
    workers: int = typer.Option(0, help="Worker processes (0: one per core)."),
) -> None:
    """Bulk-load the city into the data directory's row store and its columnar replica
    (through the policy engine and the accumulators, as live settlement) and write the anomaly
    labels to <data_dir>/simulate-labels.csv. Stop `yibao serve` on the data directory first.
    On a fresh store the load runs with SQLite synchronous=OFF and its journal in memory, and
    restores WAL and FULL at the end; if it is killed midway, the marker file
    <store>.bulk-loading stays and the store must be deleted and loaded again."""
    params = _params(seed, persons, institutions, days, settlements, start, rate, reversal_rate)
    cfg = settings()
    labels: list[Label] = []
    with friendly_errors():
        init_data_dir(cfg)
        engine = make_engine(cfg.db_url, synchronous=cfg.sqlite_synchronous)
        try:
            with replica_for_load(cfg) as replica, Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"),
                TimeElapsedColumn(), console=console,
            ) as bar:  # fmt: skip
                tasks: dict[str, TaskID] = {}

                def progress(stage: str, done: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(stage, total=max(total, 1))
                    bar.update(tasks[stage], completed=done, total=max(total, done, 1))

                report = bulk_load(
                    engine, params, data_dir=cfg.data_dir, replica=replica,
                    workers=workers or None, progress=progress, labels_out=labels,
                )  # fmt: skip
        finally:
            engine.dispose()
    path = cfg.data_dir / LABELS_FILE
    write_labels(path, labels)
    console.print(
        f"参保人 persons {report.persons:,}, 机构 institutions {report.institutions:,}, "
        f"结算 settlements {report.settlements:,} (冲销 reversals {report.reversals:,}, "
        f"拒绝 refused {report.refused:,}), 明细 fee lines {report.fee_lines:,} "
        f"(avg {report.fee_lines / max(1, report.settlements):.1f})"
    )
    console.print(
        f"用时 {report.seconds:.1f} s → {report.settlements_per_s:,.0f} settlements/s; "
        f"synchronous {report.synchronous}; 磁盘 disk: 行存储 row store "
        f"{report.disk_bytes / 2**20:,.1f} MiB + 副本 replica {report.replica_bytes / 2**20:,.1f} MiB; "
        f"phases { {k: round(v, 1) for k, v in report.phases.items()} }"
    )
    if report.refusals:
        console.print(f"refusals (first): {report.refusals}")
    console.print(f"标签 labels: {len(labels):,} → {path}")


@app.command()
def export(
    out: Path = typer.Argument(..., help="Directory for the CSV files."),
    seed: int = SEED,
    persons: int = typer.Option(2000, help="Insured persons."),
    institutions: int = typer.Option(40, help="Institutions."),
    days: int = DAYS,
    settlements: int = SETTLEMENTS,
    start: str = START,
    rate: list[str] = RATES,
    reversal_rate: float = REVERSAL,
) -> None:
    """Write the city (institutions, persons, visits, lines, labels) as CSV files, without
    touching any store: the same seed gives the same files, byte for byte."""
    params = _params(seed, persons, institutions, days, settlements, start, rate, reversal_rate)
    sizes = export_city(params, out)
    for name, rows in sizes.items():
        console.print(f"{out / name}: {rows:,} rows")
