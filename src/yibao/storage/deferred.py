"""Writes that travel with the transaction's next round trip (MySQL protocol).

Some writes of a call are never read back by it and refused by nothing the call could handle:
the change log's counter and rows, an accumulator's upsert, a new settlement or visit and its
rows under their new ids, a balance computed under its row's lock, the message's kept answer.
On the MySQL protocol every statement costs a round trip — a wait on the network, a context
switch there and back in the gateway, and the server's own handling —
so a write handed to `defer` is rendered by the driver at once (its escaping, as `execute`
would) and kept on the connection until the transaction next talks to the server: it is sent
in front of the next statement as one multi-statement request, or in front of `COMMIT`. A
settlement's tail (its funds, accumulators, change-log rows and answer) then commits in one
round trip, and the change log's counter row is locked only while that round trip runs.

What changes for a deferred write:
- Its error (a lost connection, a deadlock, a full disk) is raised by the statement or the
  COMMIT that carried it. The transaction then rolls back whole, as after any error, and the
  whole-transaction retry (`uow.run_transaction`) sees the same error classes. A write whose
  failure the caller handles statement by statement (a serial number in use) is never
  deferred; one whose clash the caller handles by running the whole transaction again, more
  carefully, may be — a writing call's signature nonce and message-log row on its first,
  optimistic attempt (`interface.idempotency.run_once`), the nonces of reads claimed together
  (`interface.nonces.ReadClaims`).
- Nothing else: the server runs the statements in order, so a later read in the transaction
  sees them; a rollback, a reset of the connection or a new transaction drops what is pending.

It needs the connection's CLIENT_MULTI_STATEMENTS flag (`YIBAO_MYSQL_MULTI_STATEMENTS`, on by
default; TiDB runs multi-statements for a client that sets it). Without the flag, and on SQLite,
which has no round trips to save, `defer` answers False and the caller runs the write at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, event

#: the attribute of a DBAPI connection (mysqlclient's or PyMySQL's) that holds its pending
#: statements, rendered
_PENDING = "_yibao_deferred"
#: set on a DBAPI connection opened with CLIENT_MULTI_STATEMENTS by an engine that defers
_ACCEPTS = "_yibao_defers"
#: the client flags every MySQL-protocol connection sets (the constants' values are the
#: protocol's, the same in both drivers): FOUND_ROWS, which SQLAlchemy's dialects expect
#: (rowcount = rows matched), and MULTI_STATEMENTS for the deferred writes
CLIENT_FOUND_ROWS = 2
CLIENT_MULTI_STATEMENTS = 1 << 16


def accepts(conn: Connection) -> bool:
    """Whether writes on this connection can be deferred (see the module doc)."""
    raw = conn.connection.dbapi_connection
    return raw is not None and getattr(raw, _ACCEPTS, False)


def render(conn: Connection, text: str, args: Any) -> bytes:
    """`text` with `args` bound by the driver's own escaping, as `execute` would send it."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    quick = getattr(raw, "render_statement", None)  # mysqlclient's, `storage.mysqldb`
    if quick is not None and isinstance(args, tuple | list):
        return quick(text, args)  # type: ignore[no-any-return]
    cursor = raw.cursor()
    try:
        sql = cursor.mogrify(text, args)
    finally:
        cursor.close()
    return sql if isinstance(sql, bytes) else sql.encode("utf-8", "surrogateescape")


def defer(conn: Connection, statements: Sequence[bytes]) -> bool:
    """Keep rendered statements for the transaction's next round trip; False (nothing kept)
    when the connection cannot take multi-statements — the caller then runs them itself."""
    raw = conn.connection.dbapi_connection
    if raw is None or not getattr(raw, _ACCEPTS, False):
        return False
    if not conn.in_transaction():
        conn.begin()  # a deferred write belongs to a transaction, as any write
    pending: list[bytes] | None = getattr(raw, _PENDING, None)
    if pending is None:
        setattr(raw, _PENDING, list(statements))
    else:
        pending.extend(statements)
    return True


def take(raw: Any) -> list[bytes]:
    """The connection's pending statements, now no longer pending."""
    pending: list[bytes] | None = getattr(raw, _PENDING, None)
    if not pending:
        return []
    setattr(raw, _PENDING, None)
    return pending


def drop(raw: Any) -> None:
    """Forget what is pending (the transaction ended without it)."""
    if getattr(raw, _PENDING, None):
        setattr(raw, _PENDING, None)


def send(raw: Any, statements: Sequence[bytes], last: bytes | None = None) -> Any:
    """Run `statements` (then `last`) as one request on a new cursor of the DBAPI connection
    `raw`. With `last` the cursor is returned at `last`'s result, for the caller to read and
    close; otherwise every result is consumed and None returned. An error of any statement is
    raised (the server runs none after it)."""
    cursor = raw.cursor()
    try:
        sql = b";\n".join([*statements, last] if last is not None else statements)
        cursor.execute(sql)
        for _ in range(len(statements) - (0 if last is not None else 1)):
            cursor.nextset()
        if last is None:
            cursor.close()
            return None
        return cursor
    except BaseException:
        _drain(cursor)
        raise


def _drain(cursor: Any) -> None:
    """After an error in a request, take what is left of its results (the connection must
    not be left mid-answer) and close the cursor — quietly: on a lost connection these fail
    too, and their error must not replace the request's own."""
    with contextlib.suppress(Exception):
        while cursor.nextset():
            pass
    with contextlib.suppress(Exception):
        cursor.close()


def fetch(raw: Any, pending: Sequence[bytes], selects: Sequence[bytes]) -> list[list[Any]]:
    """Run `pending` then the `selects` as one request on the DBAPI connection `raw`; the
    rows of each SELECT, in order (an error of any statement is raised)."""
    cursor = raw.cursor()
    try:
        cursor.execute(b";\n".join([*pending, *selects]))
        for _ in pending:
            cursor.nextset()
        found = [list(cursor.fetchall())]
        for _ in selects[1:]:
            cursor.nextset()
            found.append(list(cursor.fetchall()))
    except BaseException:
        _drain(cursor)
        raise
    cursor.close()
    return found


def install(engine: Engine) -> None:
    """Make `engine`'s connections carry deferred writes: mark each new connection as
    accepting them, send what is pending before any statement SQLAlchemy runs and with the
    COMMIT, and drop it on a rollback, a reset or a new transaction."""
    dialect = engine.dialect
    plain_commit = dialect.do_commit
    plain_rollback = dialect.do_rollback

    @event.listens_for(engine, "connect")
    def _accepts(dbapi_conn: Any, _record: Any) -> None:
        setattr(dbapi_conn, _ACCEPTS, True)

    @event.listens_for(engine, "before_cursor_execute")
    def _send_first(
        conn: Connection, _cursor: Any, _text: str, _params: Any, _ctx: Any, _many: bool
    ) -> None:
        raw = conn.connection.dbapi_connection
        pending = take(raw)
        if pending:
            try:
                send(raw, pending)
            except dialect.loaded_dbapi.Error as exc:
                # raised here, before SQLAlchemy's own handling: handled as it would be —
                # wrapped (IntegrityError & co. for the callers and the transient-error
                # retry), the pool invalidated when the server is gone
                conn._handle_dbapi_exception(exc, "deferred writes", None, None, None)

    @event.listens_for(engine, "begin")
    def _fresh(conn: Connection) -> None:
        raw = conn.connection.dbapi_connection
        if raw is not None:
            drop(raw)

    @event.listens_for(engine, "reset")
    def _reset(dbapi_conn: Any, _record: Any, _state: Any) -> None:
        drop(dbapi_conn)

    # SQLAlchemy hands its dialect the pool's proxy of the DBAPI connection (which passes
    # reads of unknown attributes through, but keeps what is set on it): what is pending
    # lives on the DBAPI connection itself
    def do_commit(proxy: Any) -> None:
        dbapi_conn = getattr(proxy, "dbapi_connection", proxy)
        pending = take(dbapi_conn)
        if not pending:
            plain_commit(dbapi_conn)
            return
        try:
            send(dbapi_conn, [*pending, b"COMMIT"])
        except BaseException:
            # the COMMIT did not run: end the transaction here, as the pool would not (its
            # reset skips a connection whose transaction SQLAlchemy saw committing)
            with contextlib.suppress(Exception):
                plain_rollback(dbapi_conn)
            raise

    def do_rollback(proxy: Any) -> None:
        dbapi_conn = getattr(proxy, "dbapi_connection", proxy)
        drop(dbapi_conn)
        plain_rollback(dbapi_conn)

    # the dialect is this engine's own instance: its commit and rollback carry the pending
    setattr(dialect, "do_commit", do_commit)  # noqa: B010
    setattr(dialect, "do_rollback", do_rollback)  # noqa: B010
