"""9001 签到 and 9002 签退 (reference/nhsa-interface.md): an operator's sign-in gives the
`sign_no` later calls carry; signing out closes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.errors import NotFound
from yibao.interface import fields as f
from yibao.interface import sign_in
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.kit.clock import fmt_datetime


def parse_sign_in(input: dict[str, Any]) -> sign_in.SignIn:
    d = f.node(input, "signIn")
    return sign_in.SignIn(
        opter_no=f.req_str(d, "opter_no", node_name="signIn", max_len=30),
        mac=f.opt_str(d, "mac", node_name="signIn", max_len=64),
        ip=f.opt_str(d, "ip", node_name="signIn", max_len=64),
    )


def parse_sign_out(input: dict[str, Any]) -> sign_in.SignOut:
    d = f.node(input, "signOut")
    return sign_in.SignOut(sign_no=f.req_str(d, "sign_no", node_name="signOut", max_len=30))


@transaction("9001", "签到", writes=True)
def sign_on(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    command = parse_sign_in(input)
    sign_no = ctx.platform.ids.next_str()
    sign_in.record_sign_in(
        conn, sign_no=sign_no, fixmedins_code=ctx.fixmedins_code, command=command, at=ctx.now
    )
    return {"signinoutb": {"sign_time": fmt_datetime(ctx.now), "sign_no": sign_no}}


@transaction("9002", "签退", writes=True)
def sign_off(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    command = parse_sign_out(input)
    row = sign_in.find_sign_in(conn, fixmedins_code=ctx.fixmedins_code, sign_no=command.sign_no)
    if row is None:
        raise NotFound(f"signOut.sign_no: 签到流水号不存在 '{command.sign_no}' (no such sign-in)")
    if row["signout_time"] is None:
        sign_in.record_sign_out(conn, sign_no=command.sign_no, at=ctx.now)
    return {"signoutoutb": {"sign_time": fmt_datetime(ctx.now)}}
