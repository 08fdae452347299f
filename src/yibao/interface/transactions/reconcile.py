"""对账 transactions: 3201 (totals) and 3202 (detail, by a file uploaded with 9101). Each handler
parses `input` into a `settlement.commands_reconcile` command and calls `settlement.reconcile`;
which settlements count is that module's docstring."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.errors import InvalidInput
from yibao.interface.context import CallContext
from yibao.interface.fields import node, opt_amount, opt_str, req_amount, req_date, req_str
from yibao.interface.registry import transaction
from yibao.settlement import reconcile
from yibao.settlement.commands_reconcile import DetailStatement, StatementPeriod, TotalsStatement


def _include_reversals(data: Mapping[str, Any], node_name: str) -> bool:
    value = opt_str(data, "refd_setl_flag", node_name=node_name, max_len=6)
    if value is None or value == "1":
        return True
    if value == "0":
        return False
    raise InvalidInput(
        f"{node_name}.refd_setl_flag: 应为 1(含退费)、0(不含退费) 或空 "
        f"(must be '1', '0' or empty), got '{value}'"
    )


def parse_period(
    data: Mapping[str, Any], node_name: str, *, insutype: str | None, clr_type: str | None
) -> StatementPeriod:
    optins = req_str(data, "setl_optins", node_name=node_name, max_len=6)
    if len(optins) != 6 or not optins.isdigit():
        raise InvalidInput(
            f"{node_name}.setl_optins: 清算机构须为6位医保区划 (must be a 6-digit admdvs): '{optins}'"
        )
    begin = req_date(data, "stmt_begndate", node_name=node_name)
    end = req_date(data, "stmt_enddate", node_name=node_name)
    if end < begin:
        raise InvalidInput(
            f"{node_name}.stmt_enddate: 对账结束日期早于开始日期 (end date before begin date)"
        )
    return StatementPeriod(
        setl_optins=optins,
        stmt_begndate=begin,
        stmt_enddate=end,
        include_reversals=_include_reversals(data, node_name),
        insutype=insutype,
        clr_type=clr_type,
    )


def parse_totals(input_: Mapping[str, Any]) -> TotalsStatement:
    data = node(input_, "data")
    insutype = req_str(data, "insutype", node_name="data", max_len=6)
    clr_type = req_str(data, "clr_type", node_name="data", max_len=6)
    period = parse_period(data, "data", insutype=insutype, clr_type=clr_type)
    medfee_sumamt, fund_pay_sumamt, acct_pay = (
        req_amount(data, name, node_name="data", allow_negative=True)
        for name in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")
    )
    count = req_str(data, "fixmedins_setl_cnt", node_name="data", max_len=10)
    if not count.lstrip("-").isdigit():
        raise InvalidInput(f"data.fixmedins_setl_cnt: 应为整数 (must be a whole number): '{count}'")
    return TotalsStatement(
        period=period,
        medfee_sumamt=medfee_sumamt,
        fund_pay_sumamt=fund_pay_sumamt,
        acct_pay=acct_pay,
        fixmedins_setl_cnt=int(count),
    )


@transaction("3201", "医药机构费用结算对总账", writes=False)
def reconcile_totals(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    cmd = parse_totals(input_)
    return reconcile.statement_totals(conn, cmd, fixmedins_code=ctx.fixmedins_code)


def parse_detail_statement(input_: Mapping[str, Any]) -> DetailStatement:
    data = node(input_, "data")
    file_qury_no = req_str(data, "file_qury_no", node_name="data", max_len=30)
    clr_type = opt_str(data, "clr_type", node_name="data", max_len=6)
    insutype = opt_str(data, "insutype", node_name="data", max_len=6)
    period = parse_period(data, "data", insutype=insutype, clr_type=clr_type)
    # The totals are read so that a malformed one is refused; the file decides the result.
    for name in ("medfee_sumamt", "fund_pay_sumamt", "cash_payamt"):
        opt_amount(data, name, node_name="data", allow_negative=True)
    return DetailStatement(period=period, file_qury_no=file_qury_no)


@transaction("3202", "医药机构费用结算对明细账", writes=True)
def reconcile_detail(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    cmd = parse_detail_statement(input_)
    return reconcile.statement_detail(
        conn, cmd, fixmedins_code=ctx.fixmedins_code, now=ctx.now, ids=ctx.platform.ids
    )
