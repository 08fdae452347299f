"""5265 结算单信息查询: the statement of one of the caller's settlements, with a link to its
printable page. The handler parses `input` into a `settlement.commands_statement` command and
calls `settlement.statement`, scoped to the calling institution; the link's token is signed
by `settlement.print_token` (the institution has no console login to open it with)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.interface import fields as f
from yibao.interface import print_statement
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.settlement import statement
from yibao.settlement.commands_statement import StatementQuery


def parse_statement_query(input_: Mapping[str, Any]) -> StatementQuery:
    d = f.node(input_, "data")
    return StatementQuery(
        setl_id=f.req_str(d, "setl_id", node_name="data", max_len=30),
        psn_no=f.opt_str(d, "psn_no", node_name="data", max_len=30),
        mdtrt_id=f.opt_str(d, "mdtrt_id", node_name="data", max_len=30),
    )


@transaction("5265", "结算单信息查询", writes=False)
def settlement_statement(
    conn: Connection, ctx: CallContext, input: dict[str, Any]
) -> dict[str, Any]:
    query = parse_statement_query(input)
    out = statement.statement(conn, query, fixmedins_code=ctx.fixmedins_code)
    out["print_url"] = print_statement.print_url(
        ctx.platform, setl_id=query.setl_id, fixmedins_code=ctx.fixmedins_code, at=ctx.now
    )
    return out
