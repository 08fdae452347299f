"""Query transactions: 5201 就诊信息查询, 5203 结算信息查询, 5204 费用明细查询. Each handler
parses `input` into a `settlement.commands_queries` command and calls `settlement.queries`,
scoped to the calling institution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.settlement import queries
from yibao.settlement.commands_queries import SettlementQuery, VisitQuery


def parse_visit_query(input_: Mapping[str, Any]) -> VisitQuery:
    d = f.node(input_, "data")
    return VisitQuery(
        psn_no=f.req_str(d, "psn_no", node_name="data", max_len=30),
        mdtrt_id=f.opt_str(d, "mdtrt_id", node_name="data", max_len=30),
        begntime=f.opt_datetime(d, "begntime", node_name="data"),
        endtime=f.opt_datetime(d, "endtime", node_name="data"),
        med_type=f.opt_str(d, "med_type", node_name="data", max_len=6),
    )


def parse_settlement_query(input_: Mapping[str, Any]) -> SettlementQuery:
    d = f.node(input_, "data")
    return SettlementQuery(
        psn_no=f.req_str(d, "psn_no", node_name="data", max_len=30),
        setl_id=f.opt_str(d, "setl_id", node_name="data", max_len=30),
        mdtrt_id=f.opt_str(d, "mdtrt_id", node_name="data", max_len=30),
    )


@transaction("5201", "就诊信息查询", writes=False)
def visits(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return queries.visits(
        conn,
        parse_visit_query(input),
        fixmedins_code=ctx.fixmedins_code,
        fixmedins_name=ctx.institution.fixmedins_name,
    )


@transaction("5203", "结算信息查询", writes=False)
def settlement(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return queries.settlement(
        conn,
        parse_settlement_query(input),
        fixmedins_code=ctx.fixmedins_code,
        fixmedins_name=ctx.institution.fixmedins_name,
    )


@transaction("5204", "费用明细查询", writes=False)
def fee_lines(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> Any:
    return queries.fee_lines(conn, parse_settlement_query(input), fixmedins_code=ctx.fixmedins_code)
