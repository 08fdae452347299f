"""The change log: every change the columnar replica must see, written in the same
transaction as the change itself.

`seq` comes from the `seq_counter` row, updated inside the writing transaction. That row lock
is held to commit, so on a MySQL-protocol store transactions that log changes commit in `seq`
order and a tailer reading `seq > applied` never skips a row that commits late. (On SQLite
there is one writer anyway.) Append the change-log rows last in a transaction to hold the lock
for the shortest time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from yibao.storage.prepared import Prepared
from yibao.storage.tables import change_log, seq_counter

COUNTER = "change_log"

# Every settlement runs these: compiled once and executed at the driver level
# (`storage.prepared`: no per-call compile-cache lookup or result objects).
_BUMP = Prepared(
    update(seq_counter)
    .where(seq_counter.c.name == COUNTER)
    .values(last_value=seq_counter.c.last_value + bindparam("count"))
)
_LAST = Prepared(select(seq_counter.c.last_value).where(seq_counter.c.name == COUNTER))
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


def allocate(conn: Connection, count: int) -> int:
    """Reserve `count` consecutive seq values; returns the first."""
    if _BUMP.execute(conn, {"count": count}) == 0:
        conn.execute(insert(seq_counter).values(name=COUNTER, last_value=count))
        return 1
    row = _LAST.first(conn)
    assert row is not None
    return int(row["last_value"]) - count + 1


def append(
    conn: Connection, entity: str, entity_key: str, payload: Mapping[str, Any], op: str = "upsert"
) -> int:
    """Append one change; returns its seq."""
    return append_many(conn, [(entity, entity_key, payload, op)])[0]


def append_many(
    conn: Connection, changes: Sequence[tuple[str, str, Mapping[str, Any], str]]
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


def latest_seq(conn: Connection) -> int:
    """The highest committed seq (0 when the log is empty)."""
    value = conn.execute(select(func.max(change_log.c.seq))).scalar_one_or_none()
    return int(value or 0)


def position(conn: Connection) -> int:
    """How far the log has gone: its last row's seq, or the counter when it is ahead — a bulk
    load reserves a seq it never writes (`simulate.bulk`), and what it loaded is in the tables."""
    counter = _LAST.first(conn)
    return max(latest_seq(conn), int(counter["last_value"]) if counter else 0)


def read_after(conn: Connection, after: int, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(change_log).where(change_log.c.seq > after).order_by(change_log.c.seq).limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


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
