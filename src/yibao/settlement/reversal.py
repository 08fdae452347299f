"""2601 冲正交易: undo the effect of an earlier message named by its msgid.

A client that timed out does not know whether its message arrived; 2601 makes the answer
certain. Reversible originals: 2207/2304/2102 (the settlement is reversed like 2208/2305/2103),
2208/2305/2103 (the reversed settlement becomes valid again), 2401 (the admission is cancelled
like 2404). Idempotent: when the original's effect is already undone the answer is success and
nothing is written. When no successful original is known (it never arrived, or it was refused
and so had no effect) the answer is -1 "原交易不存在".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from yibao.errors import InvalidInput, NotFound
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.settlement import ledger, repo
from yibao.settlement.inpatient import cancel_admission
from yibao.storage.tables import mdtrt, msg_log, setl

SETTLING = ("2207", "2304", "2102")
REVERSING = ("2208", "2305", "2103")
ADMITTING = ("2401",)


@transaction("2601", "冲正交易", writes=True, reads_msg_log=True)
def revoke(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    d = f.node(input, "data")
    psn_no = f.req_str(d, "psn_no", node_name="data", max_len=30)
    omsgid = f.req_str(d, "omsgid", node_name="data", max_len=30)
    oinfno = f.req_str(d, "oinfno", node_name="data", max_len=6)
    base = oinfno[:4]
    if base not in (*SETTLING, *REVERSING, *ADMITTING):
        raise InvalidInput(
            f"data.oinfno: 交易 {oinfno} 不支持冲正 (reversible: 2102, 2103, 2207, 2208, "
            "2304, 2305, 2401)"
        )
    original = (
        conn.execute(
            select(msg_log.c.infno, msg_log.c.psn_no, msg_log.c.infcode).where(
                msg_log.c.msgid == omsgid, msg_log.c.fixmedins_code == ctx.fixmedins_code
            )
        )
        .mappings()
        .first()
    )
    if original is None or original["infcode"] != 0:
        raise NotFound(
            f"data.omsgid: 原交易不存在 '{omsgid}' (no successful message with this msgid: "
            "it never arrived or was refused, so there is nothing to reverse)"
        )
    if original["infno"][:4] != base:
        raise InvalidInput(
            f"data.oinfno: 与原交易的交易编号 {original['infno']} 不一致 (does not match the "
            "original message)"
        )
    if original["psn_no"] and original["psn_no"] != psn_no:
        raise InvalidInput(
            f"data.psn_no: 与原交易的人员编号不一致 '{psn_no}' (does not match the original)"
        )
    if base in ADMITTING:
        visit = (
            conn.execute(
                select(mdtrt).where(
                    mdtrt.c.msgid == omsgid, mdtrt.c.fixmedins_code == ctx.fixmedins_code
                )
            )
            .mappings()
            .first()
        )
        if visit is None:
            raise NotFound(f"data.omsgid: 原交易不存在 '{omsgid}' (no admission of this message)")
        if visit["mdtrt_stas"] != repo.CANCELLED:
            cancel_admission(conn, ctx, visit)
        return None
    refd = "0" if base in SETTLING else "1"
    row = (
        conn.execute(
            select(setl).where(
                setl.c.medins_setl_id == omsgid,
                setl.c.fixmedins_code == ctx.fixmedins_code,
                setl.c.refd_setl_flag == refd,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"data.omsgid: 原交易不存在 '{omsgid}' (no settlement of this message)")
    if row["vali_flag"] != "1":
        return None  # already undone (by 2208/2305/2103 or an earlier 2601)
    if base in SETTLING:
        ledger.reverse(conn, ctx, row, revs_infno="2601")
        if base == "2304":
            visit = repo.visit(conn, ctx, row["mdtrt_id"], None, open_only=False)
            if visit["mdtrt_stas"] == repo.SETTLED:
                repo.update_visit(
                    conn, row["mdtrt_id"], {"mdtrt_stas": repo.DISCHARGED, "updated_at": ctx.now}
                )
                repo.visit_changed(conn, {**visit, "mdtrt_stas": repo.DISCHARGED})
    else:
        ledger.reinstate(conn, ctx, row)
        original_setl = repo.settlement_by_id(conn, row["init_setl_id"])
        if base == "2305" and original_setl is not None:
            visit = repo.visit(conn, ctx, row["mdtrt_id"], None, open_only=False)
            if visit["mdtrt_stas"] == repo.DISCHARGED and original_setl["enddate"] is not None:
                repo.update_visit(
                    conn, row["mdtrt_id"], {"mdtrt_stas": repo.SETTLED, "updated_at": ctx.now}
                )
                repo.visit_changed(conn, {**visit, "mdtrt_stas": repo.SETTLED})
    return None
