"""The change log: every change the columnar replica must see, written in the same
transaction as the change itself.

**Where `seq` comes from.** Seqs are consecutive (a hole means "changes the log does not
hold": the replica rebuilds) and in commit order (a tailer reading `seq > applied` must never
skip a row that commits late).

- *On a MySQL-protocol store* from the `seq_counter` row, updated inside the writing
  transaction. That row lock is held to commit, so transactions that log changes commit in
  `seq` order. Append the change-log rows last in a transaction to hold the lock briefly.
  A caller that needs no seqs back (`append_later`) has the bump and the rows sent with the
  transaction's next round trip, usually its COMMIT (`storage.deferred`): the rows take their
  seqs from the bump in SQL (`LAST_INSERT_ID`), and the lock is held for that one request.
- *On SQLite, inside the writer's group commit* from memory (`seq_window`): the writer's
  transaction holds the file's write lock from `BEGIN IMMEDIATE` to commit, so nothing else
  can append meanwhile. The window learns the high-water mark — the larger of `max(seq)` and
  the counter row — with one read at the first allocation of the group commit, hands out the
  following seqs with no statement at all, and writes the counter row once before the commit
  (two statements for all the group's jobs, where the counter cost an UPDATE and a SELECT for
  each). The row thus stays the last seq, as every other reader and writer of it expects
  (an older version of the platform on the same store too). A job rolled back to its
  savepoint makes the window read the mark again (its seqs were never written, and the next
  job must reuse them). Nothing is kept between group commits, so another process or an
  ordinary transaction writing the same file in between is seen by the next read.
- *On SQLite elsewhere* (commands, the bulk loader's reservation) from the counter row,
  raised first to the log's `max(seq)` should it ever lag.

**What a change says** (`op`): `insert` — the key's first image (the writer just created the
row), `upsert` — a later full image of it, `delete` — it is gone. A consumer may treat `insert`
as `upsert`; the replica uses it to skip looking for an older image of a new key.

**Restarts and kill -9.** Nothing about seqs lives only in memory past a commit: the log's
rows carry their seqs, committed atomically with the changes, and the counter carries the
reservations (a bulk load) and, before `trim` deletes rows, the highest seq it may delete. So
the mark a restarted writer reads is at least every seq ever committed; seqs of a transaction
that never committed may be handed out again, and nobody has seen them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, Literal

import orjson
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from yibao.storage import deferred
from yibao.storage.prepared import Prepared
from yibao.storage.tables import change_log, seq_counter

COUNTER = "change_log"

#: a change's `op` (above)
Op = Literal["insert", "upsert", "delete"]
INSERT: Final = "insert"
UPSERT: Final = "upsert"
DELETE: Final = "delete"

# Every settlement runs these: compiled once and executed at the driver level
# (`storage.prepared`: no per-call compile-cache lookup or result objects).
_BUMP = Prepared(
    update(seq_counter)
    .where(seq_counter.c.name == COUNTER)
    .values(last_value=seq_counter.c.last_value + bindparam("count"))
)
_LAST = Prepared(select(seq_counter.c.last_value).where(seq_counter.c.name == COUNTER))
#: MySQL protocol: the bump that also answers the new last value (`LAST_INSERT_ID(expr)`
#: comes back with the UPDATE's own answer), so a reservation is one round trip
_BUMP_AND_TELL = Prepared(
    update(seq_counter)
    .where(seq_counter.c.name == COUNTER)
    .values(last_value=func.last_insert_id(seq_counter.c.last_value + bindparam("count")))
)
_APPEND = Prepared(
    insert(change_log),
    keys=("seq", "entity", "op", "entity_key", "payload", "ts_ms"),
)


def _default(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


def encode(payload: Mapping[str, Any]) -> str:
    return orjson.dumps(payload, default=_default).decode()


#: the log's high-water mark (SQLite): its last seq or the counter, whichever is ahead
_MARK = Prepared(
    select(
        func.max(
            func.coalesce(select(func.max(change_log.c.seq)).scalar_subquery(), 0),
            func.coalesce(
                select(seq_counter.c.last_value)
                .where(seq_counter.c.name == COUNTER)
                .scalar_subquery(),
                0,
            ),
        ).label("mark")
    )
)
#: SQLite outside the window: the counter first catches up with seqs the window handed out
_BUMP_PAST_LOG = Prepared(
    update(seq_counter)
    .where(seq_counter.c.name == COUNTER)
    .values(
        last_value=func.max(
            seq_counter.c.last_value,
            func.coalesce(select(func.max(change_log.c.seq)).scalar_subquery(), 0),
        )
        + bindparam("count")
    )
)
_WINDOW_KEY = "yibao.seq_window"


_SET = Prepared(
    update(seq_counter)
    .where(seq_counter.c.name == COUNTER)
    .values(last_value=bindparam("last_value"))
)


class SeqWindow:
    """The writer's in-memory seq counter for one group-commit transaction (SQLite only)."""

    __slots__ = ("next", "used")

    def __init__(self) -> None:
        #: the next seq to hand out; None until read from the store (or after a rollback)
        self.next: int | None = None
        #: whether any seq was handed out (the counter row is then brought up to date)
        self.used = False

    def forget(self) -> None:
        """Read the mark again before the next allocation (a savepoint was rolled back)."""
        self.next = None


@contextmanager
def seq_window(conn: Connection) -> Iterator[SeqWindow]:
    """Allocate seqs on `conn` from memory while the block runs: only inside a transaction
    that holds SQLite's write lock throughout (the writer's `BEGIN IMMEDIATE` group commit);
    see the module doc."""
    window = SeqWindow()
    conn.info[_WINDOW_KEY] = window
    try:
        yield window
        if window.used:
            # one counter write for the whole group commit, so the row stays what every
            # other reader and writer of it (an older version too) expects: the last seq
            last = window.next - 1 if window.next is not None else high_water(conn)
            if _SET.execute(conn, {"last_value": last}) == 0:
                conn.execute(insert(seq_counter).values(name=COUNTER, last_value=last))
    finally:
        conn.info.pop(_WINDOW_KEY, None)


def forget_window(conn: Connection, *_args: Any) -> None:
    """A savepoint on `conn` was rolled back: seqs it allocated are free again."""
    window = conn.info.get(_WINDOW_KEY)
    if window is not None:
        window.forget()


def high_water(conn: Connection) -> int:
    """The highest seq committed or reserved: the log's last row or the counter (SQLite)."""
    row = _MARK.first(conn)
    return int(row["mark"]) if row is not None and row["mark"] is not None else 0


def allocate(conn: Connection, count: int) -> int:
    """Reserve `count` consecutive seq values; returns the first."""
    window: SeqWindow | None = conn.info.get(_WINDOW_KEY)
    if window is not None:
        first = window.next
        if first is None:
            first = high_water(conn) + 1
        window.next = first + count
        window.used = True
        return first
    return reserve(conn, count)


def reserve(conn: Connection, count: int) -> int:
    """Reserve `count` seqs through the counter row (what `allocate` does outside the writer's
    window; a bulk load's reservation, which must outlive the process, always comes here)."""
    sqlite = conn.dialect.name == "sqlite"
    if not sqlite and count > 0:
        found, last = _BUMP_AND_TELL.execute_last_id(conn, {"count": count})
        if found == 0:
            conn.execute(insert(seq_counter).values(name=COUNTER, last_value=count))
            return 1
        if last <= 0:  # a driver that does not pass the value on: read it (never bump twice)
            row = _LAST.first(conn)
            assert row is not None
            last = int(row["last_value"])
        return last - count + 1
    if (_BUMP_PAST_LOG if sqlite else _BUMP).execute(conn, {"count": count}) == 0:
        start = high_water(conn) if sqlite else 0
        conn.execute(insert(seq_counter).values(name=COUNTER, last_value=start + count))
        return start + 1
    row = _LAST.first(conn)
    assert row is not None
    return int(row["last_value"]) - count + 1


def remember_high_water(conn: Connection) -> None:
    """Raise the counter to the log's last seq (SQLite; before rows are deleted), so that a
    seq the log no longer holds is never handed out again."""
    if conn.dialect.name != "sqlite":
        return  # the counter is always ahead of the log there
    reserve(conn, 0)


def append(
    conn: Connection, entity: str, entity_key: str, payload: Mapping[str, Any], op: Op = UPSERT
) -> int:
    """Append one change; returns its seq."""
    return append_many(conn, [(entity, entity_key, payload, op)])[0]


def append_many(
    conn: Connection, changes: Sequence[tuple[str, str, Mapping[str, Any], Op]]
) -> list[int]:
    """Append several changes with one counter update; returns their seqs."""
    if not changes:
        return []
    first = allocate(conn, len(changes))
    now_ms = int(time.time() * 1000)
    rows: list[dict[str, Any]] = [
        {
            "seq": first + i,
            "entity": e,
            "op": op,
            "entity_key": k,
            "payload": encode(p),
            "ts_ms": now_ms,
        }
        for i, (e, k, p, op) in enumerate(changes)
    ]
    _APPEND.executemany(conn, rows)
    return [r["seq"] for r in rows]


#: the deferred form (MySQL protocol): the bump, inserting the counter row should the store
#: have none yet, leaves the new last seq in the session's LAST_INSERT_ID() for the rows after
#: it in the same request — the two always travel together, adjacent
_BUMP_LATER = (
    f"INSERT INTO {seq_counter.name} ({seq_counter.c.name.name}, {seq_counter.c.last_value.name})"
    f" VALUES ('{COUNTER}', LAST_INSERT_ID(%s)) ON DUPLICATE KEY UPDATE"
    f" {seq_counter.c.last_value.name} = LAST_INSERT_ID({seq_counter.c.last_value.name} + %s)"
)
_APPEND_LATER = (
    f"INSERT INTO {change_log.name} (seq, entity, op, entity_key, payload, ts_ms) VALUES ".encode()
)
_ROW_LATER = "(LAST_INSERT_ID() - %s, %s, %s, %s, %s, %s)"


def append_later(
    conn: Connection, changes: Sequence[tuple[str, str, Mapping[str, Any], Op]]
) -> None:
    """`append_many` for a caller that needs no seqs back: on the MySQL protocol the counter's
    bump and the rows travel with the transaction's next round trip (module doc); elsewhere,
    or inside the SQLite writer's window, they are appended at once."""
    if not changes:
        return
    if conn.info.get(_WINDOW_KEY) is not None or not deferred.accepts(conn):
        append_many(conn, changes)
        return
    count = len(changes)
    now_ms = int(time.time() * 1000)
    rows = b",".join(
        deferred.render(conn, _ROW_LATER, (count - 1 - i, e, op, k, encode(p), now_ms))
        for i, (e, k, p, op) in enumerate(changes)
    )
    deferred.defer(conn, [deferred.render(conn, _BUMP_LATER, (count, count)), _APPEND_LATER + rows])


def latest_seq(conn: Connection) -> int:
    """The highest committed seq (0 when the log is empty)."""
    value = conn.execute(select(func.max(change_log.c.seq))).scalar_one_or_none()
    return int(value or 0)


def position(conn: Connection) -> int:
    """How far the log has gone: its last row's seq, or the counter when it is ahead — a bulk
    load reserves a seq it never writes (`simulate.bulk`), and what it loaded is in the tables."""
    counter = _LAST.first(conn)
    return max(latest_seq(conn), int(counter["last_value"]) if counter else 0)


#: the tail of the log after a seq: the applier's read every batch, at the driver level
_AFTER = Prepared(
    select(change_log)
    .where(change_log.c.seq > bindparam("after"))
    .order_by(change_log.c.seq)
    .limit(bindparam("limit"))
)


def read_after(conn: Connection, after: int, limit: int) -> list[dict[str, Any]]:
    """At most `limit` changes after seq `after`, in seq order."""
    return _AFTER.all(conn, {"after": int(after), "limit": int(limit)})


def latest_change_of(
    conn: Connection, entity: str, entity_key: str, *, window: int
) -> tuple[int, int] | None:
    """(seq, ts_ms) of the latest change of an entity key among the last `window` changes
    (the log has no index on keys; a range on its primary key keeps the lookup cheap)."""
    latest = int(conn.execute(select(func.max(change_log.c.seq))).scalar_one_or_none() or 0)
    row = conn.execute(
        select(change_log.c.seq, change_log.c.ts_ms)
        .where(change_log.c.seq > latest - window)
        .where(change_log.c.entity == entity, change_log.c.entity_key == entity_key)
        .order_by(change_log.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), int(row[1]))


def decode(payload: str) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(payload)
    return result


def iter_payloads(
    rows: Iterable[Mapping[str, Any]],
) -> Iterable[tuple[int, str, str, dict[str, Any]]]:
    for r in rows:
        yield int(r["seq"]), str(r["entity"]), str(r["op"]), decode(str(r["payload"]))


def trim(conn: Connection, *, upto_seq: int, before_ms: int, limit: int = 10_000) -> int:
    """Delete at most about `limit` of the oldest changes that the replica has applied
    (`seq <= upto_seq`) and that were written before `before_ms`; returns the rows deleted.
    Call it in a loop, one short transaction each, so that writers are never held up long."""
    remember_high_water(conn)
    old = (change_log.c.seq <= upto_seq, change_log.c.ts_ms < before_ms)
    edge = conn.execute(
        select(change_log.c.seq).where(*old).order_by(change_log.c.seq).limit(1).offset(limit - 1)
    ).scalar_one_or_none()
    if edge is None:
        edge = conn.execute(select(func.max(change_log.c.seq)).where(*old)).scalar_one_or_none()
        if edge is None:
            return 0
    result = conn.execute(delete(change_log).where(change_log.c.seq <= edge, *old))
    return int(result.rowcount or 0)
