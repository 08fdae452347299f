"""The console's reads of settlements and reconciliation results, filtered by the caller's
`Scope` (an institution sees its own, a chain its stores', the agency every one). A record
outside the scope is answered exactly like a missing one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from yibao.enrolment.scope import Scope
from yibao.settlement.repo.rows import Row, every, first
from yibao.storage.tables import fee_detail, file_store, setl, setl_fund

#: the result files 3202 produces (settlement.reconcile)
RESULT_PREFIX = "stmt_detail_"

LIST_COLUMNS = [
    "setl_id",
    "mdtrt_id",
    "fixmedins_code",
    "psn_no",
    "insutype",
    "med_type",
    "setl_time",
    "refd_setl_flag",
    "vali_flag",
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "hosp_part_amt",
    "acct_mulaid_pay",
]


def _within(column: Any, scope: Scope) -> list[ColumnElement[bool]]:
    if scope.fixmedins_codes is None:
        return []
    return [column.in_(sorted(scope.fixmedins_codes))]


def page_settlements(
    conn: Connection,
    *,
    scope: Scope,
    fixmedins_code: str | None,
    psn_no: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[int, list[Row]]:
    """(total, page) newest first."""
    conds = _within(setl.c.fixmedins_code, scope)
    if fixmedins_code:
        conds.append(setl.c.fixmedins_code == fixmedins_code)
    if psn_no:
        conds.append(setl.c.psn_no == psn_no)
    if since is not None:
        conds.append(setl.c.setl_time >= since)
    if until is not None:
        conds.append(setl.c.setl_time < until)
    total = conn.execute(select(func.count()).select_from(setl).where(*conds)).scalar_one()
    rows = every(
        conn.execute(
            select(*(setl.c[name] for name in LIST_COLUMNS))
            .where(*conds)
            .order_by(setl.c.setl_time.desc(), setl.c.setl_id.desc())
            .limit(limit)
            .offset(offset)
        ).mappings()
    )
    return int(total), rows


def settlement(conn: Connection, setl_id: str, *, scope: Scope) -> Row | None:
    return first(
        conn.execute(
            select(*(setl.c[name] for name in LIST_COLUMNS))
            .where(setl.c.setl_id == setl_id)
            .where(*_within(setl.c.fixmedins_code, scope))
        ).mappings()
    )


def funds(conn: Connection, setl_id: str) -> list[Row]:
    return every(
        conn.execute(
            select(setl_fund)
            .where(setl_fund.c.setl_id == setl_id)
            .order_by(setl_fund.c.fund_pay_type)
        ).mappings()
    )


def fee_lines(conn: Connection, setl_id: str) -> list[Row]:
    return every(
        conn.execute(
            select(fee_detail)
            .where(fee_detail.c.setl_id == setl_id)
            .order_by(fee_detail.c.feedetl_sn)
        ).mappings()
    )


_FILE_COLUMNS = (
    file_store.c.file_qury_no,
    file_store.c.fixmedins_code,
    file_store.c.filename,
    file_store.c.created_at,
    file_store.c.expires_at,
)


def _results(scope: Scope) -> list[ColumnElement[bool]]:
    return [
        file_store.c.direction == "download",
        file_store.c.filename.like(f"{RESULT_PREFIX}%"),
        *_within(file_store.c.fixmedins_code, scope),
    ]


def page_results(
    conn: Connection, *, scope: Scope, fixmedins_code: str | None, limit: int, offset: int
) -> tuple[int, list[Row]]:
    """(total, page) of 3202 result files, newest first (without their bytes)."""
    conds = _results(scope)
    if fixmedins_code:
        conds.append(file_store.c.fixmedins_code == fixmedins_code)
    total = conn.execute(select(func.count()).select_from(file_store).where(*conds)).scalar_one()
    rows = every(
        conn.execute(
            select(*_FILE_COLUMNS)
            .where(*conds)
            .order_by(file_store.c.created_at.desc(), file_store.c.file_qury_no.desc())
            .limit(limit)
            .offset(offset)
        ).mappings()
    )
    return int(total), rows


def result_file(conn: Connection, file_qury_no: str, *, scope: Scope) -> Row | None:
    """A result file with its `content`."""
    return first(
        conn.execute(
            select(*_FILE_COLUMNS, file_store.c.content)
            .where(file_store.c.file_qury_no == file_qury_no)
            .where(*_results(scope))
        ).mappings()
    )
