"""`yibao catalog …` — import national catalogs, list versions, show a code's terms."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from yibao.catalog import repo
from yibao.catalog.demo import load_demo_catalog
from yibao.catalog.importer import ImportReport, import_file
from yibao.catalog.model import CatalogItem
from yibao.cli.common import console, err_console, fail, friendly_errors, settings
from yibao.enrolment import audit
from yibao.errors import YibaoError
from yibao.kit.clock import parse_date
from yibao.kit.ids import IdGenerator
from yibao.storage.engine import make_engine
from yibao.storage.uow import UnitOfWork

app = typer.Typer(
    help="国家医保目录: 导入目录文件, 查看版本与编码 (import national catalogs; list versions; show codes).",
    no_args_is_help=True,
)

#: rejected rows printed on the terminal; --report writes them all
SHOWN_REJECTIONS = 30


def _date_option(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        fail(f"{name}: 日期格式错误 '{value}' (expected yyyy-MM-dd)", 2)


def _print_report(report: ImportReport, report_file: Path | None) -> None:
    if report.ignored_columns:
        console.print(
            f"忽略的列 ignored columns: {', '.join(report.ignored_columns)}", highlight=False
        )
    for issue in report.rejected[:SHOWN_REJECTIONS]:
        console.print(f"[red]拒绝 rejected[/] {issue.text()}", highlight=False, soft_wrap=True)
    if len(report.rejected) > SHOWN_REJECTIONS:
        more = len(report.rejected) - SHOWN_REJECTIONS
        hint = f" (all in {report_file})" if report_file else " (use --report FILE for all)"
        console.print(f"… 另有{more}行被拒 {more} more rejected rows{hint}", highlight=False)
    if report_file is not None:
        with report_file.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["line", "code", "reasons"])
            for issue in report.rejected:
                writer.writerow([issue.line, issue.code, "; ".join(issue.reasons)])
    summary = (
        f"读取 read {report.rows_read} 行 rows; 拒绝 rejected {len(report.rejected)}; "
        f"取代旧条目 superseded {report.superseded}; 未变化 unchanged {report.unchanged}"
    )
    if report.version_id is not None:
        console.print(
            f"[green]已导入 applied[/] {report.applied} 行 rows as version {report.ver_no} "
            f"({report.ver}; kinds {','.join(report.kinds)}). {summary}",
            highlight=False,
        )
    else:
        console.print(
            f"[yellow]未导入 not applied[/]: {report.not_applied_reason}. {summary}",
            highlight=False,
        )


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(
        ..., help="CSV 或 XLSX 目录文件 (national or Chinese column titles)"
    ),
    kind: str | None = typer.Option(
        None,
        "--kind",
        help="rows without list_type/catalog_kind: drug, tcm_herb, preparation, service_item, "
        "consumable, ethnic_drug, tcm_granule, diagnosis, operation, chronic_disease, "
        "disease_payment, day_surgery, tumour_morphology, tcm_disease, tcm_syndrome, or a "
        "list_type code (101…); default: inferred from each code",
    ),
    begndate: str | None = typer.Option(None, help="begndate for rows that give none (yyyy-MM-dd)"),
    ver: str | None = typer.Option(None, help="a label for the new version (default: the time)"),
    strict: bool = typer.Option(False, help="apply nothing when any row is rejected"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check only; write nothing"),
    report: Path | None = typer.Option(None, help="write every rejected row to this CSV"),
    opter: str = typer.Option("cli", help="who applies the version (kept with it)"),
) -> None:
    """Import a catalog file as a new catalog version, in one transaction.

    Exit 0: every row applied. Exit 1: some rows rejected (reported with line numbers and
    reasons; the rest applied unless --strict). Exit 2: the file was refused whole or an
    option is wrong; nothing applied.
    """
    start = _date_option(begndate, "--begndate")
    cfg = settings()
    engine = make_engine(cfg.db_url)
    tasks: dict[str, TaskID] = {}
    try:
        with (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=False,
            ) as progress,
        ):

            def on_progress(stage: str, done: int, total: int | None) -> None:
                if stage not in tasks:
                    label = "检查 check" if stage == "check" else "写入 apply"
                    tasks[stage] = progress.add_task(label, total=total)
                progress.update(tasks[stage], completed=done, total=total)

            with UnitOfWork(engine) as uow:
                result = import_file(
                    uow.conn,
                    file,
                    kind=kind,
                    begndate=start,
                    ver=ver,
                    created_by=opter,
                    progress=on_progress,
                    strict=strict,
                    dry_run=dry_run,
                )
                if result.version_id is not None:
                    # a new catalog version changes prices, limits and payment categories:
                    # on the audit trail, in the same transaction (docs/audit.md)
                    audit.record(
                        uow.conn,
                        ids=IdGenerator(cfg.node_id),
                        actor=f"cli:{opter}",
                        action="catalog.import",
                        target=result.ver,
                        detail={
                            "file": file.name,
                            "version_id": str(result.version_id),
                            "ver_no": result.ver_no,
                            "kinds": result.kinds,
                            "rejected": len(result.rejected),
                        },
                        address="cli",
                        records=result.applied,
                    )
                    uow.commit()
    except YibaoError as exc:
        fail(exc.message, 2)
    finally:
        engine.dispose()
    _print_report(result, report)
    if result.rejected:
        raise typer.Exit(1)


@app.command()
def versions(limit: int = typer.Option(20, help="how many, newest first")) -> None:
    """List the applied catalog versions, newest first."""
    cfg = settings()
    engine = make_engine(cfg.db_url)
    try:
        with friendly_errors(), engine.connect() as conn:
            rows = repo.versions(conn, limit=limit)
            counts = repo.count_effective(conn)
    finally:
        engine.dispose()
    if not rows:
        console.print("尚无目录版本 (no catalog version yet): `yibao catalog import FILE`")
        return
    for r in rows:
        console.print(
            f"v{r['ver_no']}\t{r['ver']}\t{r['created_at']:%Y-%m-%d %H:%M:%S}\t{r['row_count']} rows"
            f"\t{r['rejected_count']} rejected\t{r['kinds']}\t{r['source']}\t{r['created_by']}",
            highlight=False,
        )
    console.print(
        "当前有效 effective: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
        highlight=False,
    )


@app.command()
def show(
    code: str = typer.Argument(..., help="national code (hilist_code)"),
    at: str | None = typer.Option(None, help="the term valid at this date (default: all terms)"),
) -> None:
    """Show a national code's terms (every version, superseded ones marked)."""
    day = _date_option(at, "--at")
    cfg = settings()
    engine = make_engine(cfg.db_url)
    try:
        terms: list[tuple[CatalogItem, int | None]]
        with friendly_errors(), engine.connect() as conn:
            if day is not None:
                found = repo.terms_at(conn, {code}, datetime.combine(day, datetime.min.time()))
                terms = [(found[code], None)] if code in found else []
            else:
                terms = repo.history(conn, code)
    finally:
        engine.dispose()
    if not terms:
        console.print(f"{code}: 目录中没有 (not in the catalog{' on ' + str(day) if day else ''})")
        raise typer.Exit(1)
    for item, superseded in terms:
        r = item.restrictions
        limits = [
            f"{k}={v}"
            for k, v in (
                ("gend", r.gend),
                ("age", f"{r.age_min or 0}-{r.age_max}" if r.age_max or r.age_min else None),
                ("hosp_lv", ",".join(sorted(r.hosp_lv)) or None),
                ("med_type", ",".join(sorted(r.med_type)) or None),
                ("diag", ",".join(r.diag_codes) or None),
                ("days", r.max_days),
                ("cnt", r.max_cnt),
            )
            if v
        ]
        state = "superseded" if superseded else "effective"
        console.print(
            f"{item.hilist_code}\t{item.hilist_name}\t{item.list_type}\t{item.chrgitm_lv}"
            f"\tselfpay {item.selfpay_prop}\tcap {item.hilist_pric_uplmt_amt}"
            f"\t{item.begndate}~{item.enddate or ''}\t{state}\t{' '.join(limits)}",
            highlight=False,
        )


@app.command()
def demo() -> None:
    """Load the demo catalog (idempotent; `yibao demo` does this too)."""
    cfg = settings()
    engine = make_engine(cfg.db_url)
    try:
        with friendly_errors(), UnitOfWork(engine) as uow:
            result = load_demo_catalog(uow.conn)
            uow.commit()
    finally:
        engine.dispose()
    if result is None:
        console.print("演示目录已存在 (the demo catalog is already loaded)")
    else:
        console.print(
            f"演示目录已导入 demo catalog applied: {result.applied} rows, v{result.ver_no}"
        )
