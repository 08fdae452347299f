"""9001 签到 / 9002 签退."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from yibao.errors import NotFound
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.kit.clock import fmt_datetime
from yibao.storage.tables import sign_in


@transaction("9001", "签到", writes=True)
def sign_on(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    d = f.node(input, "signIn")
    opter_no = f.req_str(d, "opter_no", node_name="signIn", max_len=30)
    sign_no = ctx.platform.ids.next_str()
    conn.execute(
        insert(sign_in).values(
            sign_no=sign_no,
            fixmedins_code=ctx.fixmedins_code,
            opter_no=opter_no,
            mac=f.opt_str(d, "mac", node_name="signIn", max_len=64),
            ip=f.opt_str(d, "ip", node_name="signIn", max_len=64),
            sign_time=ctx.now,
            signout_time=None,
        )
    )
    return {"signinoutb": {"sign_time": fmt_datetime(ctx.now), "sign_no": sign_no}}


@transaction("9002", "签退", writes=True)
def sign_off(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    d = f.node(input, "signOut")
    sign_no = f.req_str(d, "sign_no", node_name="signOut", max_len=30)
    row = conn.execute(select(sign_in).where(sign_in.c.sign_no == sign_no)).mappings().first()
    if row is None or row["fixmedins_code"] != ctx.fixmedins_code:
        raise NotFound(f"signOut.sign_no: 签到流水号不存在 '{sign_no}' (no such sign-in)")
    if row["signout_time"] is None:
        conn.execute(
            update(sign_in).where(sign_in.c.sign_no == sign_no).values(signout_time=ctx.now)
        )
    return {"signoutoutb": {"sign_time": fmt_datetime(ctx.now)}}
