"""5269 异地门诊结算单 and 5270 异地住院结算单: the statement of one of the caller's settlements
of a person insured in another hosted region, with `remoteinfo` (insured region and its policy,
region of treatment, and whether a registration, emergency care or the 未备案 ratio applied).
Input as 5265's; the use case is `settlement.remote_statement`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.interface.transactions.statement import parse_statement_query
from yibao.runtime import Platform
from yibao.settlement import remote_statement


@transaction("5269", "异地门诊结算单信息查询", writes=False)
def remote_outpatient_statement(
    conn: Connection, ctx: CallContext, input: dict[str, Any]
) -> dict[str, Any]:
    platform: Platform = ctx.platform
    return remote_statement.remote_statement(
        conn,
        platform.book,
        parse_statement_query(input),
        fixmedins_code=ctx.fixmedins_code,
        kind="outpatient",
    )


@transaction("5270", "异地住院结算单信息查询", writes=False)
def remote_inpatient_statement(
    conn: Connection, ctx: CallContext, input: dict[str, Any]
) -> dict[str, Any]:
    platform: Platform = ctx.platform
    return remote_statement.remote_statement(
        conn,
        platform.book,
        parse_statement_query(input),
        fixmedins_code=ctx.fixmedins_code,
        kind="inpatient",
    )
