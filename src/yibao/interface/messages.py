"""The message log (`msg_log`): msgid → the stored answer of a writing call.

A writing call claims its msgid in the same transaction (savepoint) as its effects and keeps its
answer there, so a retry of the same message gets the stored answer and writes nothing
(design.md §4, idempotent by msgid), and 2601 冲正 finds the message it reverses.
The hot statements are prepared once (`storage.prepared`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from yibao.storage.prepared import Prepared, PreparedInsert
from yibao.storage.tables import msg_log

_STORED = Prepared(
    select(
        msg_log.c.fixmedins_code, msg_log.c.infno, msg_log.c.input_sha256, msg_log.c.response
    ).where(msg_log.c.msgid == bindparam("msgid"))
)
_CLAIM = PreparedInsert(msg_log)
_ANSWER = Prepared(
    update(msg_log)
    .where(msg_log.c.msgid == bindparam("b_msgid"))
    .values(
        response=bindparam("b_response"),
        ref_id=bindparam("b_ref_id"),
        psn_no=bindparam("b_psn_no"),
    )
)


def stored(conn: Connection, msgid: str) -> dict[str, Any] | None:
    """What is kept of `msgid` for the idempotency check: fixmedins_code, infno, input_sha256,
    response ("" while the claiming transaction has not answered yet)."""
    return _STORED.first(conn, {"msgid": msgid})


def claim(
    conn: Connection,
    *,
    msgid: str,
    fixmedins_code: str,
    infno: str,
    input_sha256: str,
    created_at: datetime,
    response: str = "",
    ref_id: str | None = None,
    psn_no: str | None = None,
    defer: bool = False,
) -> None:
    """Insert the message's row (a twin claiming the same msgid fails on the key); with the
    answer already known (a late claim) the row is written once, complete. `defer`: it goes
    with the transaction's COMMIT on the MySQL protocol (`storage.deferred`), the key's clash
    failing the COMMIT (`idempotency.run_once`)."""
    row = {
        "msgid": msgid,
        "fixmedins_code": fixmedins_code,
        "infno": infno,
        "input_sha256": input_sha256,
        "infcode": 0,
        "response": response,
        "psn_no": psn_no,
        "ref_id": ref_id,
        "created_at": created_at,
    }
    if defer:
        _CLAIM.later(conn, [row])
    else:
        _CLAIM.execute(conn, row)


def record_answer(
    conn: Connection, msgid: str, *, response: str, ref_id: str | None, psn_no: str | None
) -> None:
    """Keep the answer of a claimed message (on the MySQL protocol it travels with the
    transaction's COMMIT: `storage.deferred`)."""
    _ANSWER.later(
        conn,
        [{"b_msgid": msgid, "b_response": response, "b_ref_id": ref_id, "b_psn_no": psn_no}],
    )


def find_message(
    conn: Connection, msgid: str, *, fixmedins_code: str | None = None
) -> dict[str, Any] | None:
    """The logged message `msgid` (msgid, fixmedins_code, infno, infcode, psn_no, ref_id,
    response, created_at), or None. With `fixmedins_code` only that institution's message is
    found (an institution sees only its own messages)."""
    query = select(
        msg_log.c.msgid,
        msg_log.c.fixmedins_code,
        msg_log.c.infno,
        msg_log.c.infcode,
        msg_log.c.psn_no,
        msg_log.c.ref_id,
        msg_log.c.response,
        msg_log.c.created_at,
    ).where(msg_log.c.msgid == msgid)
    if fixmedins_code is not None:
        query = query.where(msg_log.c.fixmedins_code == fixmedins_code)
    row = conn.execute(query).mappings().first()
    return None if row is None else dict(row)
