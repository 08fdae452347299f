"""2601 冲正交易: undo the effect of an earlier message of the institution, named by its msgid
(see `yibao.settlement.reversal`). The handler finds the original in the message log, which
the pipeline claims this call's own msgid in before the handler runs (`reads_msg_log`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.messages import find_message
from yibao.interface.registry import transaction
from yibao.interface.transactions.callers import caller
from yibao.settlement import reversal
from yibao.settlement.commands import Revoke


@transaction("2601", "冲正交易", writes=True, reads_msg_log=True)
def revoke(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    d = f.node(input, "data")
    command = Revoke(
        psn_no=f.req_str(d, "psn_no", node_name="data", max_len=30),
        omsgid=f.req_str(d, "omsgid", node_name="data", max_len=30),
        oinfno=f.req_str(d, "oinfno", node_name="data", max_len=6),
    )
    reversal.check_reversible(command)
    original = find_message(conn, command.omsgid)
    reversal.revoke(conn, caller(ctx), command, original)
    return None
