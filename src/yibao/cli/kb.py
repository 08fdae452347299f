"""`yibao kb …` — the knowledge base (知识库) of the review: import a table from CSV/XLSX,
export it, list the tables, load the demo rows."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import typer
from sqlalchemy import func, select

from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.cli.demo import city_knowledge
from yibao.errors import YibaoError
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator
from yibao.review.demo_kb import load_demo_kb
from yibao.review.kb_rows import HEADERS_ZH, SPEC, export_rows, import_table, read_file
from yibao.risk.kb import KB_TABLES
from yibao.storage.engine import make_engine
from yibao.storage.tables import KB_TABLES as TABLES
from yibao.storage.uow import UnitOfWork

app = typer.Typer(
    help=(
        "知识库: 导入/导出审核规则使用的知识表 (the review's knowledge base: item_pairs, bundles, "
        "price_limits, drug_limits, frequency_limits, windows, consumable_links). "
        "docs/review.md describes every table and column."
    ),
    no_args_is_help=True,
)

_TABLE_HELP = "知识表 one of: " + ", ".join(KB_TABLES)


def _check_table(table: str) -> None:
    if table not in KB_TABLES:
        fail(
            f"TABLE: 未知的知识表 '{table}' (unknown table); 可选 choose: {', '.join(KB_TABLES)}", 2
        )


@app.command("import")
def import_cmd(
    table: str = typer.Argument(..., help=_TABLE_HELP),
    file: Path = typer.Argument(
        ..., help="CSV (UTF-8 或 GBK) 或 XLSX; 第一行为表头 (national or Chinese column names)"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="只检查不写入 (check only)"),
) -> None:
    """Replace TABLE's rows with FILE's, in one transaction.

    Every row is checked first; one bad row refuses the whole file with its row number and the
    reason, and nothing changes. Columns: `yibao kb columns TABLE`. A running server sees the
    new rows within a few seconds.
    """
    _check_table(table)
    if not file.is_file():
        fail(f"FILE: 文件不存在 '{file}' (no such file)", 2)
    cfg = settings()
    try:
        rows = read_file(table, file)
    except YibaoError as exc:
        fail(exc.message, 2)
    if dry_run:
        console.print(f"检查通过 check passed: {len(rows)} 行 rows for {table} (nothing written)")
        return
    engine = make_engine(cfg.db_url)
    try:
        with friendly_errors(), UnitOfWork(engine) as uow:
            count = import_table(
                uow.conn, table, rows, ids=IdGenerator(cfg.node_id), now=local_naive_now()
            )
            uow.commit()
    finally:
        engine.dispose()
    console.print(f"已导入 imported {count} 行 rows into {table} (replacing its previous rows)")


@app.command("export")
def export_cmd(
    table: str = typer.Argument(..., help=_TABLE_HELP),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="write to this .csv or .xlsx file (default: CSV on stdout)"
    ),
) -> None:
    """Export TABLE with national column names (a file `kb import` reads back unchanged)."""
    _check_table(table)
    cfg = settings()
    engine = make_engine(cfg.db_url)
    try:
        with friendly_errors(), engine.connect() as conn:
            header, rows = export_rows(conn, table)
    finally:
        engine.dispose()
    if out is not None and out.suffix.lower() == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = table
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        book.save(out)
        console.print(f"已导出 exported {len(rows)} 行 rows to {out}")
        return
    if out is not None:
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
        console.print(f"已导出 exported {len(rows)} 行 rows to {out}")
        return
    writer = csv.writer(sys.stdout)
    writer.writerow(header)
    writer.writerows(rows)


@app.command("tables")
def tables_cmd() -> None:
    """List the knowledge tables and their row counts."""
    cfg = settings()
    engine = make_engine(cfg.db_url)
    try:
        with friendly_errors(), engine.connect() as conn:
            for name in KB_TABLES:
                count = conn.execute(select(func.count()).select_from(TABLES[name])).scalar_one()
                console.print(f"{name:18} {count:6} 行 rows")
    finally:
        engine.dispose()


@app.command("columns")
def columns_cmd(table: str = typer.Argument(..., help=_TABLE_HELP)) -> None:
    """The columns of TABLE a file may carry (required ones marked *), with their Chinese
    headers."""
    _check_table(table)
    zh: dict[str, list[str]] = {}
    for head, column in HEADERS_ZH.items():
        zh.setdefault(column, []).append(head)
    for column, col in SPEC[table].items():
        mark = "*" if col.required else " "
        console.print(f"{mark} {column:16} {col.kind:8} {' / '.join(zh.get(column, []))}")


@app.command("demo")
def demo_cmd() -> None:
    """Load the demo knowledge base into every empty table (idempotent; `yibao demo` does it)."""
    cfg = settings()
    engine = make_engine(cfg.db_url)
    try:
        with friendly_errors(), UnitOfWork(engine) as uow:
            added = load_demo_kb(
                uow.conn,
                ids=IdGenerator(cfg.node_id),
                now=local_naive_now(),
                document=city_knowledge(),
            )
            uow.commit()
    finally:
        engine.dispose()
    if not added:
        console.print("演示知识库已存在 (the knowledge tables already hold rows; unchanged)")
    for table, count in added.items():
        console.print(f"{table}: {count} 行 rows")
