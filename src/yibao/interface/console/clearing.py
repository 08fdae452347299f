"""清算 use cases for the console and the CLI: applications (list, detail, review, accept,
reject, approve, deductions), payment orders (list, detail, mark paid), the annual deposit
decision and the CSV/XLSX exports. The rules are `clearing.service`'s; docs/clearing.md."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Connection

from yibao.clearing import payments, service
from yibao.clearing.arithmetic import parse_setlym
from yibao.errors import InvalidInput
from yibao.interface.console.auth import User
from yibao.kit.clock import fmt_datetime, local_naive_now
from yibao.runtime import Platform

#: the columns of the exports, by their national field names (labels in the header row)
APPLICATION_COLUMNS: Sequence[tuple[str, str]] = (
    ("clr_appy_evt_id", "清算申请事件ID"),
    ("fixmedins_code", "定点医药机构编号"),
    ("clr_optins", "清算机构"),
    ("setlym", "清算年月"),
    ("clr_type", "清算类别"),
    ("clr_way", "清算方式"),
    ("stas", "状态"),
    ("psntime", "申报人次"),
    ("medfee_sumamt", "申报医疗费总额"),
    ("med_sumfee", "申报医保认可费用"),
    ("fund_appy_sum", "基金申报总额"),
    ("acct_pay", "申报个人账户支出"),
    ("cash_payamt", "申报现金支付"),
    ("rvw_setl_cnt", "审核结算笔数"),
    ("rvw_medfee_sumamt", "审核医疗费总额"),
    ("rvw_fund_pay_sumamt", "审核基金支付"),
    ("rvw_acct_pay", "审核个人账户支出"),
    ("rvw_adjust_amt", "以前月份调整"),
    ("created_at", "申请时间"),
    ("updated_at", "最后变更时间"),
)
ORDER_COLUMNS: Sequence[tuple[str, str]] = (
    ("clr_order_id", "拨付单号"),
    ("clr_appy_evt_id", "清算申请事件ID"),
    ("fixmedins_code", "定点医药机构编号"),
    ("setlym", "清算年月"),
    ("clr_type", "清算类别"),
    ("fund_pay_type", "基金支付类型"),
    ("fund_pay_type_name", "基金名称"),
    ("setl_amt", "本月结算"),
    ("adjust_amt", "以前月份调整"),
    ("deduct_amt", "扣款"),
    ("deposit_amt", "质量保证金"),
    ("payable_amt", "应拨付金额"),
    ("stas", "状态"),
    ("issued_at", "开具时间"),
    ("paid_at", "拨付时间"),
    ("pay_ref", "拨付凭证号"),
    ("deposit_stas", "保证金状态"),
)
EXPORT_LIMIT = 100_000


def _now() -> datetime:
    return local_naive_now()


def _setlym(value: str | None, name: str) -> str | None:
    if value is not None:
        parse_setlym(value, field=name)
    return value


def list_applications(
    platform: Platform, user: User, **filters: Any
) -> tuple[int, list[dict[str, Any]]]:
    _setlym(filters.get("setlym"), "setlym")
    with platform.db.read() as conn:
        return service.list_applications(conn, **filters)


def get_application(platform: Platform, user: User, clr_appy_evt_id: str) -> dict[str, Any]:
    with platform.db.read() as conn:
        return service.get_application(conn, clr_appy_evt_id)


def review(platform: Platform, user: User, clr_appy_evt_id: str) -> dict[str, Any]:
    with platform.db.read() as conn:
        return service.review(conn, clr_appy_evt_id)


async def transition(
    platform: Platform,
    user: User,
    clr_appy_evt_id: str,
    *,
    action: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """accept | reject | approve (the agency's steps; 3204 is the institution's withdrawal)."""
    now = _now()

    def job(conn: Connection) -> dict[str, Any]:
        return run_transition(
            conn, platform, user.username, clr_appy_evt_id, action=action, reason=reason, now=now
        )

    return await platform.db.writer.run(job)


def run_transition(
    conn: Connection,
    platform: Platform,
    actor: str,
    clr_appy_evt_id: str,
    *,
    action: str,
    reason: str | None,
    now: datetime,
) -> dict[str, Any]:
    ids = platform.ids
    if action == "accept":
        service.accept(conn, clr_appy_evt_id, ids=ids, actor=actor, now=now, reason=reason)
        return service.get_application(conn, clr_appy_evt_id)
    if action == "reject":
        return service.reject(
            conn, clr_appy_evt_id, ids=ids, actor=actor, now=now, reason=reason or ""
        )
    if action == "approve":
        return service.approve(
            conn, clr_appy_evt_id, ids=ids, book=platform.book, actor=actor, now=now, reason=reason
        )
    raise InvalidInput(
        f"action: 未知操作 '{action}' (one of accept, reject, approve; withdrawal is the "
        "institution's 3204)"
    )


async def add_deduction(
    platform: Platform, user: User, clr_appy_evt_id: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """`fields`: fund_pay_type, amount, reason, kind (deduct | recover), source, case_id."""
    now = _now()

    def job(conn: Connection) -> dict[str, Any]:
        return service.add_deduction(
            conn, clr_appy_evt_id, ids=platform.ids, actor=user.username, now=now, **fields
        )

    return await platform.db.writer.run(job)


def list_orders(platform: Platform, user: User, **filters: Any) -> tuple[int, list[dict[str, Any]]]:
    _setlym(filters.get("setlym"), "setlym")
    with platform.db.read() as conn:
        return payments.list_orders(conn, **filters)


def get_order(platform: Platform, user: User, clr_order_id: str) -> dict[str, Any]:
    with platform.db.read() as conn:
        return payments.get_order(conn, clr_order_id)


async def mark_paid(
    platform: Platform, user: User, clr_order_id: str, *, pay_ref: str
) -> dict[str, Any]:
    now = _now()

    def job(conn: Connection) -> dict[str, Any]:
        return payments.mark_paid(
            conn, clr_order_id, ids=platform.ids, pay_ref=pay_ref, actor=user.username, now=now
        )

    return await platform.db.writer.run(job)


async def settle_deposits(
    platform: Platform, user: User, *, fixmedins_code: str, year: int, action: str, reason: str
) -> list[dict[str, Any]]:
    now = _now()

    def job(conn: Connection) -> list[dict[str, Any]]:
        return payments.settle_deposits(
            conn,
            ids=platform.ids,
            fixmedins_code=fixmedins_code,
            year=year,
            action=action,
            reason=reason,
            actor=user.username,
            now=now,
        )

    return await platform.db.writer.run(job)


def monthly(platform: Platform, user: User, *, since: str, until: str) -> list[dict[str, Any]]:
    with platform.db.read() as conn:
        return payments.monthly(conn, since=since, until=until)


# ---------------------------------------------------------------------------------------------
# exports
# ---------------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return fmt_datetime(value) or ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    return str(value)


def render(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]], fmt: str
) -> bytes:
    """Rows as CSV (UTF-8 with BOM, so that spreadsheet programs read the Chinese header) or
    XLSX; amounts are written as exact text with two decimals, never as floats."""
    header = [f"{label}({name})" for name, label in columns]
    body = [[_cell(r.get(name)) for name, _ in columns] for r in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(body)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("清算")
        ws.append(header)
        for line in body:
            ws.append(line)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
    raise InvalidInput(f"format: 导出格式应为 csv 或 xlsx (csv or xlsx): '{fmt}'")


def export(platform: Platform, user: User, *, what: str, fmt: str, **filters: Any) -> bytes:
    """`what` applications | orders, filtered like the lists, as `fmt` csv | xlsx."""
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput(f"format: 导出格式应为 csv 或 xlsx (csv or xlsx): '{fmt}'")
    if what == "applications":
        _, rows = list_applications(platform, user, limit=EXPORT_LIMIT, **filters)
        return render(rows, APPLICATION_COLUMNS, fmt)
    if what == "orders":
        _, rows = list_orders(platform, user, limit=EXPORT_LIMIT, **filters)
        return render(rows, ORDER_COLUMNS, fmt)
    raise InvalidInput(f"what: 应为 applications 或 orders (applications or orders): '{what}'")
