"""2601 冲正交易: undo the effect of an earlier message named by its msgid.

A client that timed out does not know whether its message arrived; 2601 makes the answer
certain. Reversible originals: 2207/2304/2102 (the settlement is reversed like 2208/2305/2103),
2208/2305/2103 (the reversed settlement becomes valid again), 2401 (the admission is cancelled
like 2404). Idempotent: when the original's effect is already undone the answer is success and
nothing is written. When no successful original is known (it never arrived, or it was refused
and so had no effect) the answer is -1 "原交易不存在".

The message log belongs to the national interface: its handler finds the original message
(`yibao.interface.messages.find_message`) and hands it here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.errors import InvalidInput, NotFound
from yibao.settlement import ledger, repo
from yibao.settlement.commands import Revoke
from yibao.settlement.context import Caller
from yibao.settlement.inpatient import cancel_admission

SETTLING = ("2207", "2304", "2102")
REVERSING = ("2208", "2305", "2103")
ADMITTING = ("2401",)


def check_reversible(command: Revoke) -> None:
    """Refuse an `oinfno` that 2601 cannot reverse (before the original is looked up)."""
    if command.oinfno[:4] not in (*SETTLING, *REVERSING, *ADMITTING):
        raise InvalidInput(
            f"data.oinfno: 交易 {command.oinfno} 不支持冲正 (reversible: 2102, 2103, 2207, 2208, "
            "2304, 2305, 2401)"
        )


def revoke(
    conn: Connection,
    caller: Caller,
    command: Revoke,
    original: Mapping[str, Any] | None,
) -> None:
    """Undo the effect of `original`, the stored message `command.omsgid` (None: unknown)."""
    check_reversible(command)
    omsgid = command.omsgid
    base = command.oinfno[:4]
    if (
        original is None
        or original["fixmedins_code"] != caller.fixmedins_code
        or original["infcode"] != 0
    ):
        raise NotFound(
            f"data.omsgid: 原交易不存在 '{omsgid}' (no successful message with this msgid: "
            "it never arrived or was refused, so there is nothing to reverse)"
        )
    if original["infno"][:4] != base:
        raise InvalidInput(
            f"data.oinfno: 与原交易的交易编号 {original['infno']} 不一致 (does not match the "
            "original message)"
        )
    if original["psn_no"] and original["psn_no"] != command.psn_no:
        raise InvalidInput(
            f"data.psn_no: 与原交易的人员编号不一致 '{command.psn_no}' (does not match the original)"
        )
    if base in ADMITTING:
        visit = repo.visit_of_message(conn, caller.fixmedins_code, omsgid)
        if visit is None:
            raise NotFound(f"data.omsgid: 原交易不存在 '{omsgid}' (no admission of this message)")
        if visit["mdtrt_stas"] != repo.CANCELLED:
            cancel_admission(conn, caller, visit)
        return
    refd = "0" if base in SETTLING else "1"
    row = repo.settlement_of_message(conn, caller.fixmedins_code, omsgid, refd_setl_flag=refd)
    if row is None:
        raise NotFound(f"data.omsgid: 原交易不存在 '{omsgid}' (no settlement of this message)")
    if row["vali_flag"] != "1":
        return  # already undone (by 2208/2305/2103 or an earlier 2601)
    if base in SETTLING:
        ledger.reverse(conn, caller, row, revs_infno="2601")
        if base == "2304":
            _set_visit_state(conn, caller, row["mdtrt_id"], repo.SETTLED, repo.DISCHARGED)
    else:
        ledger.reinstate(conn, caller, row)
        original_setl = repo.settlement_by_id(conn, row["init_setl_id"])
        if base == "2305" and original_setl is not None and original_setl["enddate"] is not None:
            _set_visit_state(conn, caller, row["mdtrt_id"], repo.DISCHARGED, repo.SETTLED)


def _set_visit_state(
    conn: Connection, caller: Caller, mdtrt_id: str, when: str, becomes: str
) -> None:
    """The admission of a settlement reversed or reinstated follows it: `when` → `becomes`."""
    visit = repo.visit(conn, caller.fixmedins_code, mdtrt_id, None, open_only=False)
    if visit["mdtrt_stas"] == when:
        repo.update_visit(conn, mdtrt_id, {"mdtrt_stas": becomes, "updated_at": caller.now})
        repo.visit_changed(conn, {**visit, "mdtrt_stas": becomes})
