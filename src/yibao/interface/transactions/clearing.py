"""清算 transactions: 3203 清算申请 (the institution applies for a month's clearing) and 3204
清算申请撤销 (withdraws it while the agency has not accepted it). Each handler parses `input`
into a `clearing.commands` command and calls `clearing.service`; docs/clearing.md explains
the whole cycle (review, deductions, deposit, payment orders)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.clearing import service
from yibao.clearing.commands import ApplyClearing, WithdrawClearing
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction

_AMOUNTS = ("medfee_sumamt", "med_sumfee", "fund_appy_sum", "cash_payamt", "acct_pay")


def parse_apply(input_: dict[str, Any]) -> ApplyClearing:
    d = f.node(input_, "data")
    amounts = {
        name: f.req_amount(d, name, node_name="data", allow_negative=True) for name in _AMOUNTS
    }
    return ApplyClearing(
        setlym=f.req_str(d, "setlym", node_name="data", max_len=6),
        psntime=f.req_int(d, "psntime", node_name="data"),
        begndate=f.req_date(d, "begndate", node_name="data"),
        enddate=f.req_date(d, "enddate", node_name="data"),
        clr_type=f.req_str(d, "clr_type", node_name="data", max_len=6),
        clr_way=f.req_str(d, "clr_way", node_name="data", max_len=6),
        clr_optins=f.opt_str(d, "clr_optins", node_name="data", max_len=6),
        **amounts,
    )


@transaction("3203", "清算申请", writes=True)
def apply(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return service.submit(
        conn,
        parse_apply(input),
        ids=ctx.platform.ids,
        fixmedins_code=ctx.fixmedins_code,
        admdvs=ctx.institution.admdvs,
        msgid=ctx.msgid,
        now=ctx.now,
        opter=ctx.opter,
        opter_name=ctx.opter_name,
    )


@transaction("3204", "清算申请撤销", writes=True)
def withdraw(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    d = f.node(input, "data")
    cmd = WithdrawClearing(
        clr_appy_evt_id=f.req_str(d, "clr_appy_evt_id", node_name="data", max_len=30),
        clr_optins=f.opt_str(d, "clr_optins", node_name="data", max_len=6),
    )
    service.withdraw(
        conn,
        cmd,
        ids=ctx.platform.ids,
        fixmedins_code=ctx.fixmedins_code,
        msgid=ctx.msgid,
        now=ctx.now,
        opter=ctx.opter,
    )
    return None
