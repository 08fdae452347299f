"""Idempotent by msgid (design.md §4): a writing call runs at most once per message.

The job below runs in the storage writer, inside the call's savepoint: it looks the msgid up in
the message log, answers a retry with the stored answer (same institution, transaction and
input digest) or refuses a reused msgid (报文ID重复), otherwise claims the msgid, runs the
handler and keeps its answer — all in the one transaction, so a refused call writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from yibao.errors import Conflict, Unauthorized
from yibao.interface import messages
from yibao.interface.context import CallContext
from yibao.interface.registry import Transaction
from yibao.storage import deferred


class NonceClaim(Protocol):
    """Records a signed request's nonce, raising on a replay (`call_nonces.WriteClaim`);
    `defer`: its row may go with the transaction's COMMIT."""

    def __call__(self, conn: Connection, *, defer: bool = False) -> None: ...


def input_digest(raw: Any) -> str:
    """sha256 of the canonical input (a retry must carry the same input).

    The JSON reader hands over valid Unicode and 64-bit integers only; should anything else
    arrive (a caller that parsed the input itself), the digest is still taken: a lone
    surrogate is encoded as is ("surrogatepass", the same bytes for every valid string) and
    what orjson refuses goes to the standard library."""
    if isinstance(raw, str):
        data = raw.encode("utf-8", "surrogatepass")
    else:
        try:
            data = orjson.dumps(raw, default=_canonical, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # an integer beyond 64 bits, a surrogate: the standard library copes
            text = json.dumps(raw, default=str, sort_keys=True, ensure_ascii=False)
            data = text.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def ref_and_person(output: Any) -> tuple[str | None, str | None]:
    """What a message produced, for msg_log (2601 looks it up by msgid)."""
    if not isinstance(output, dict):
        return None, None
    for node in ("setlinfo", "data", "result"):
        value = output.get(node)
        if isinstance(value, dict):
            ref = value.get("setl_id") or value.get("mdtrt_id")
            return (str(ref) if ref else None), value.get("psn_no")
    return None, None


def input_psn(data: dict[str, Any]) -> str | None:
    """The person a message's input names (when its output names none)."""
    for node in ("data", "mdtrtinfo", "druginfo", "dscginfo", "adminfo"):
        value = data.get(node)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, dict) and value.get("psn_no"):
            return str(value["psn_no"])[:30]
    lines = data.get("feedetail")
    if isinstance(lines, list) and lines and isinstance(lines[0], dict):
        value = lines[0].get("psn_no")
        return str(value)[:30] if value else None
    return None


class SeenBefore(Exception):
    """An optimistic attempt met a msgid already in the message log: run the job again
    without `optimistic` (it finds the stored answer or refuses 报文ID重复)."""


def _stored_answer(stored: dict[str, Any], ctx: CallContext, digest: str) -> bytes:
    """The answer kept for a retry of the same message, or 报文ID重复 for another one."""
    if (
        stored["fixmedins_code"] == ctx.fixmedins_code
        and stored["infno"] == ctx.infno
        and stored["input_sha256"] == digest
        and stored["response"]
    ):
        return str(stored["response"]).encode()
    raise Conflict(f"msgid: 报文ID重复 '{ctx.msgid}' (this msgid was used for another message)")


def run_once(
    conn: Connection,
    txn: Transaction,
    ctx: CallContext,
    data: dict[str, Any],
    *,
    digest: str,
    answer: Callable[[Any], bytes],
    claim: NonceClaim | None = None,
    optimistic: bool = False,
) -> bytes:
    """The answer of a writing call: the stored one for a retry, else the handler's output
    made into an envelope by `answer(output)` and kept in the message log.

    `claim` records a signed request's nonce (raising on a replay). It runs after the stored
    answer is looked up: a retry of an answered message gets its answer even with the nonce it
    was first sent with (the client resends the same bytes), and in the same savepoint as the
    handler, so a call that fails leaves its nonce unclaimed.

    `optimistic` (the first attempt): claim the msgid without looking it up first. Nearly
    every message is new; one that is not fails on the key (on SQLite, where the row is
    written after the handler, once the handler has run; its savepoint undoes it), and the
    caller runs the job again without `optimistic`, which finds the stored answer — one
    statement fewer on every other call. A retry resent with its first nonce meets that nonce
    held before the key: the stored answer is looked up then.

    On the MySQL protocol the first attempt sends the nonce's row and the message's (written
    once, with its answer) with the COMMIT (`storage.deferred`): a msgid or nonce held already
    fails the COMMIT, the transaction rolls back whole, and the caller's second attempt looks
    both up. A twin racing this one runs its handler too, then fails on the key at its COMMIT
    — two round trips fewer on every other call."""
    # with its COMMIT: the first attempt, where the connection takes multi-statements
    defers = optimistic and deferred.accepts(conn)
    late = (conn.dialect.name == "sqlite" or defers) and not txn.reads_msg_log
    if not optimistic:
        stored = messages.stored(conn, ctx.msgid)
        if stored is not None:
            return _stored_answer(stored, ctx, digest)
    if claim is not None:
        try:
            claim(conn, defer=defers)
        except Unauthorized:
            stored = messages.stored(conn, ctx.msgid) if optimistic else None
            if stored is not None:  # the retry of an answered message, with its first nonce
                return _stored_answer(stored, ctx, digest)
            raise
    # Claim the msgid first on a careful attempt on a MySQL-protocol store: a concurrent twin
    # blocks here until this transaction ends, then fails on the key and is retried (the
    # pipeline runs the job again). Late otherwise — on SQLite (one writer, nothing interleaves
    # with this savepoint), and on a first attempt whose row goes with the COMMIT — the row is
    # written once, complete, after the handler: one statement instead of an INSERT and an
    # UPDATE of the answer. Not for a handler that reads the message log itself (2601).
    if not late:
        messages.claim(
            conn,
            msgid=ctx.msgid,
            fixmedins_code=ctx.fixmedins_code,
            infno=ctx.infno,
            input_sha256=digest,
            created_at=ctx.now,
        )
    try:
        output = txn.handler(conn, ctx, data)
    except (DBAPIError, conn.dialect.loaded_dbapi.Error):
        raise  # the store's own error (wrapped or not): nothing to look up on this connection
    except Exception:
        # Written late, the msgid comes after the handler: a retry of an answered message (a
        # 3401 whose department now exists) may be refused by the handler first. Seen before,
        # the caller runs the job again the careful way (this savepoint is undone).
        if optimistic and late and messages.stored(conn, ctx.msgid) is not None:
            raise SeenBefore(ctx.msgid) from None
        raise
    payload = answer(output)
    ref_id, psn_no = ref_and_person(output)
    if psn_no is None:
        psn_no = input_psn(data)
    if late:
        messages.claim(
            conn,
            defer=defers,
            msgid=ctx.msgid,
            fixmedins_code=ctx.fixmedins_code,
            infno=ctx.infno,
            input_sha256=digest,
            created_at=ctx.now,
            response=payload.decode(),
            ref_id=ref_id,
            psn_no=psn_no,
        )
    else:
        messages.record_answer(
            conn, ctx.msgid, response=payload.decode(), ref_id=ref_id, psn_no=psn_no
        )
    return payload
