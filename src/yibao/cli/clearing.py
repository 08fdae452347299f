"""`yibao clearing …` — 清算 for the agency's staff from the command line: list and review the
institutions' applications (3203), accept, deduct, approve (issues the payment orders), mark
orders paid when the treasury confirms, decide the quality deposit at the annual assessment,
export. Every change is recorded with the actor `cli:<os user>`. docs/clearing.md.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy import Connection

from yibao.clearing import payments, service
from yibao.clearing.arithmetic import parse_setlym
from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.interface.console import clearing as use_cases
from yibao.interface.console.auth import User
from yibao.kit.clock import local_naive_now
from yibao.runtime import Platform, open_platform

T = TypeVar("T")

app = typer.Typer(
    help=(
        "清算: review the institutions' monthly applications (3203), deduct, approve and issue "
        "payment orders (拨付单), mark them paid, decide the quality deposit (质量保证金). "
        "Typical month: `applications --month 202410`, `review ID`, `review ID --accept`, "
        "`approve ID`, `orders --month 202410`, `mark-paid ORDER --ref 凭证号`."
    ),
    no_args_is_help=True,
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


@contextmanager
def _platform() -> Iterator[Platform]:
    cfg = settings()
    with friendly_errors():
        platform = open_platform(cfg)
        try:
            yield platform
        finally:
            platform.close()


def _write(fn: Callable[[Platform, Connection], T]) -> T:
    with _platform() as platform, friendly_errors():
        return platform.db.writer.run_sync(lambda conn: fn(platform, conn))


def _read(fn: Callable[[Connection], T]) -> T:
    with _platform() as platform, friendly_errors(), platform.db.read() as conn:
        return fn(conn)


def _month(value: str | None) -> str | None:
    if value is not None:
        with friendly_errors():
            parse_setlym(value, field="--month")
    return value


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str) -> None:
    table = Table(title=title)
    for name in columns:
        table.add_column(name)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    console.print(table)


@app.command("applications")
def applications(
    month: str | None = typer.Option(None, "--month", help="清算年月 yyyyMM"),
    institution: str | None = typer.Option(None, "--institution", help="fixmedins_code"),
    status: str | None = typer.Option(
        None, "--status", help="submitted | withdrawn | accepted | approved | rejected"
    ),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
) -> None:
    """List clearing applications (newest month first)."""
    total, rows = _read(
        lambda conn: service.list_applications(
            conn, setlym=_month(month), fixmedins_code=institution, stas=status, limit=limit
        )
    )
    _table(
        rows,
        ("clr_appy_evt_id", "fixmedins_code", "setlym", "clr_type", "stas", "psntime",
         "fund_appy_sum", "acct_pay"),
        f"清算申请 {total} 条",
    )  # fmt: skip


@app.command("review")
def review(
    clr_appy_evt_id: str = typer.Argument(..., help="清算申请事件ID (what 3203 answered)"),
    accept: bool = typer.Option(False, "--accept", help="受理: freeze the agency's count"),
    reason: str | None = typer.Option(None, "--reason", help="why (kept with the step)"),
) -> None:
    """Show the claim beside the agency's own count, per fund; `--accept` accepts it."""
    if accept:
        result = _write(
            lambda p, conn: service.accept(
                conn, clr_appy_evt_id, ids=p.ids, actor=_actor(), now=local_naive_now(),
                reason=reason,
            )
        )  # fmt: skip
        console.print("已受理 (accepted)")
    else:
        result = _read(lambda conn: service.review(conn, clr_appy_evt_id))
    console.print(f"状态 {result['stas']}", highlight=False)
    for name, value in result["figures"].items():
        console.print(f"  {name}: {value}", highlight=False)
    if result["differences"]:
        _table(
            result["differences"], ("field", "label", "claimed", "counted", "difference"),
            "申报与记录不符 (claim ≠ the agency's records)",
        )  # fmt: skip
    else:
        console.print("申报与经办机构记录一致 (the claim matches the agency's records)")
    _table(
        result["funds"],
        ("fund_pay_type", "fund_pay_type_name", "setl_amt", "adjust_amt", "deduct_amt"),
        "按基金 (per fund)",
    )


@app.command("reject")
def reject(
    clr_appy_evt_id: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="why (required)"),
) -> None:
    """Reject an accepted application; its month may be applied for again."""
    _write(
        lambda p, conn: service.reject(
            conn, clr_appy_evt_id, ids=p.ids, actor=_actor(), now=local_naive_now(), reason=reason
        )
    )
    console.print("已驳回 (rejected)")


@app.command("deduct")
def deduct(
    clr_appy_evt_id: str = typer.Argument(...),
    fund: str = typer.Option(..., "--fund", help="fund_pay_type, e.g. 310100"),
    amount: str = typer.Option(..., "--amount", help="元, e.g. 120.00"),
    reason: str = typer.Option(..., "--reason", help="why (required)"),
    recover: bool = typer.Option(False, "--recover", help="追回 instead of 扣款"),
) -> None:
    """Deduct (扣款) or recover (追回) money from an application before it is approved."""
    try:
        value = Decimal(amount)
    except InvalidOperation:
        fail(f"--amount: 应为金额 (an amount in yuan): '{amount}'")
    row = _write(
        lambda p, conn: service.add_deduction(
            conn, clr_appy_evt_id, ids=p.ids, fund_pay_type=fund, amount=value, reason=reason,
            actor=_actor(), now=local_naive_now(), kind="recover" if recover else "deduct",
        )
    )  # fmt: skip
    console.print(f"已记录 {row['kind']} {row['fund_pay_type']} {row['amount']}", highlight=False)


@app.command("approve")
def approve(
    clr_appy_evt_id: str = typer.Argument(...),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Approve an accepted application: issues one payment order per fund."""
    result = _write(
        lambda p, conn: service.approve(
            conn, clr_appy_evt_id, ids=p.ids, book=p.book, actor=_actor(), now=local_naive_now(),
            reason=reason,
        )
    )  # fmt: skip
    _table(
        result["orders"],
        ("clr_order_id", "fund_pay_type", "setl_amt", "adjust_amt", "deduct_amt", "deposit_amt",
         "payable_amt"),
        "已开具拨付单 (payment orders issued)",
    )  # fmt: skip


@app.command("orders")
def orders(
    month: str | None = typer.Option(None, "--month", help="清算年月 yyyyMM"),
    institution: str | None = typer.Option(None, "--institution"),
    status: str | None = typer.Option(None, "--status", help="issued | paid"),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
) -> None:
    """List payment orders."""
    total, rows = _read(
        lambda conn: payments.list_orders(
            conn, setlym=_month(month), fixmedins_code=institution, stas=status, limit=limit
        )
    )
    _table(
        rows,
        ("clr_order_id", "fixmedins_code", "setlym", "fund_pay_type", "payable_amt",
         "deposit_amt", "stas", "deposit_stas"),
        f"拨付单 {total} 张",
    )  # fmt: skip


@app.command("mark-paid")
def mark_paid(
    clr_order_id: str = typer.Argument(...),
    ref: str = typer.Option(..., "--ref", help="国库/银行拨付凭证号"),
) -> None:
    """The treasury confirmed the payment of an order."""
    _write(
        lambda p, conn: payments.mark_paid(
            conn, clr_order_id, ids=p.ids, pay_ref=ref, actor=_actor(), now=local_naive_now()
        )
    )
    console.print("已拨付 (paid)")


@app.command("deposit")
def deposit(
    action: str = typer.Argument(..., help="release (返还) | forfeit (扣除)"),
    institution: str = typer.Option(..., "--institution"),
    year: int = typer.Option(..., "--year"),
    reason: str = typer.Option(..., "--reason", help="the assessment's result"),
) -> None:
    """年度考核: release or forfeit the quality deposits an institution's orders of a year hold."""
    rows = _write(
        lambda p, conn: payments.settle_deposits(
            conn, ids=p.ids, fixmedins_code=institution, year=year, action=action,
            reason=reason, actor=_actor(), now=local_naive_now(),
        )
    )  # fmt: skip
    total = sum((r["deposit_amt"] for r in rows), Decimal("0"))
    console.print(f"{len(rows)} 张拨付单, 保证金合计 {total}: {action}", highlight=False)


@app.command("export")
def export(
    what: str = typer.Argument(..., help="applications | orders"),
    out: Path = typer.Option(..., "--out", help="file to write"),
    fmt: str = typer.Option("csv", "--format", help="csv | xlsx"),
    month: str | None = typer.Option(None, "--month"),
    institution: str | None = typer.Option(None, "--institution"),
) -> None:
    """Export applications or orders as CSV (UTF-8 with BOM) or XLSX."""
    user = User(username=_actor(), display_name=_actor(), role="auditor")
    with _platform() as platform, friendly_errors():
        content = use_cases.export(
            platform, user, what=what, fmt=fmt, setlym=_month(month), fixmedins_code=institution
        )
    out.write_bytes(content)
    console.print(f"已写入 {out} ({len(content)} 字节)", highlight=False)
