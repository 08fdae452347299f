"""The audit trail's SQL: `audit_log` (the hash-chained rows), `audit_chain` (the chain head)
and `audit_anchor` (exported heads and purge anchors). The trail belongs to the agency: no tenant
scope here — the console's role check decides who reads it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from yibao.storage.tables import audit_anchor, audit_chain, audit_log

#: the head row's name in `audit_chain`
CHAIN = "audit_log"
#: the hash before the first record
GENESIS = "0" * 64


def advance_head(conn: Connection) -> tuple[int, str]:
    """Take the next position: (its `chain_seq`, the hash of the record before it).

    The head row is UPDATEd first, so this transaction holds its lock (SQLite: the database's
    write lock; MySQL/TiDB: the row lock) until it commits; a concurrent writer waits here and
    then reads the head this one leaves — the chain cannot fork."""
    bump = update(audit_chain).where(audit_chain.c.name == CHAIN)
    if conn.execute(bump.values(last_seq=audit_chain.c.last_seq + 1)).rowcount == 0:
        try:
            with conn.begin_nested():
                conn.execute(insert(audit_chain).values(name=CHAIN, last_seq=1, last_hash=GENESIS))
        except IntegrityError:  # another writer created the head first: queue behind it
            conn.execute(bump.values(last_seq=audit_chain.c.last_seq + 1))
    row = conn.execute(
        select(audit_chain.c.last_seq, audit_chain.c.last_hash).where(audit_chain.c.name == CHAIN)
    ).one()
    return int(row.last_seq), str(row.last_hash)


def ensure_head(conn: Connection) -> None:
    """Create the chain's head row (before any record) if it is missing: `yibao init` does, so
    that concurrent first writers on MySQL/TiDB queue on an existing row instead of racing to
    create it (gap locks would make them deadlock)."""
    found = conn.execute(select(audit_chain.c.name).where(audit_chain.c.name == CHAIN)).first()
    if found is None:
        conn.execute(insert(audit_chain).values(name=CHAIN, last_seq=0, last_hash=GENESIS))


def set_head_hash(conn: Connection, row_hash: str) -> None:
    conn.execute(update(audit_chain).where(audit_chain.c.name == CHAIN).values(last_hash=row_hash))


def head(conn: Connection) -> tuple[int, str]:
    """(last chain_seq, its hash); (0, GENESIS) before the first record."""
    row = conn.execute(
        select(audit_chain.c.last_seq, audit_chain.c.last_hash).where(audit_chain.c.name == CHAIN)
    ).first()
    return (0, GENESIS) if row is None else (int(row.last_seq), str(row.last_hash))


def insert_entry(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(audit_log).values(**values))


def chain_rows(conn: Connection, *, after_seq: int, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every record after `after_seq` in chain order, read in batches."""
    last = after_seq
    while True:
        rows = [
            dict(r)
            for r in conn.execute(
                select(audit_log)
                .where(audit_log.c.chain_seq > last)
                .order_by(audit_log.c.chain_seq)
                .limit(batch)
            ).mappings()
        ]
        if not rows:
            return
        yield from rows
        last = int(rows[-1]["chain_seq"])


def entry_at(conn: Connection, chain_seq: int) -> dict[str, Any] | None:
    row = conn.execute(select(audit_log).where(audit_log.c.chain_seq == chain_seq)).mappings()
    first = row.first()
    return None if first is None else dict(first)


def first_seq_from(conn: Connection, cutoff: datetime) -> int | None:
    """The lowest position of a record at or after `cutoff`."""
    value = conn.execute(
        select(func.min(audit_log.c.chain_seq)).where(audit_log.c.at >= cutoff)
    ).scalar()
    return None if value is None else int(value)


def count_between(conn: Connection, *, after: int, upto: int) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.chain_seq > after, audit_log.c.chain_seq <= upto)
        ).scalar()
        or 0
    )


def delete_upto(conn: Connection, chain_seq: int, *, limit: int) -> int:
    """Remove at most about `limit` of the records up to and including `chain_seq`, oldest
    first (the purge's only DELETE; a bounded range keeps each transaction small on TiDB)."""
    low = conn.execute(
        select(func.min(audit_log.c.chain_seq)).where(audit_log.c.chain_seq <= chain_seq)
    ).scalar()
    if low is None:
        return 0
    high = min(chain_seq, int(low) + limit - 1)
    return int(conn.execute(delete(audit_log).where(audit_log.c.chain_seq <= high)).rowcount or 0)


def insert_anchor(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(audit_anchor).values(**values))


def latest_anchor(conn: Connection, kind: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(audit_anchor)
            .where(audit_anchor.c.kind == kind)
            .order_by(audit_anchor.c.chain_seq.desc(), audit_anchor.c.at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def list_anchors(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(audit_anchor).order_by(audit_anchor.c.chain_seq)).mappings()
    return [dict(r) for r in rows]


def list_entries(
    conn: Connection,
    *,
    filters: Mapping[str, str | None],
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
    newest_first: bool = True,
) -> list[dict[str, Any]]:
    """Rows as stored (detail is JSON text) matching every given filter (equality on actor,
    action, target, tenant, role); `since` inclusive, `until` exclusive."""
    query = select(audit_log)
    for name, value in filters.items():
        if value:
            query = query.where(audit_log.c[name] == value)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    order = audit_log.c.chain_seq.desc() if newest_first else audit_log.c.chain_seq
    return [
        dict(r) for r in conn.execute(query.order_by(order).limit(limit).offset(offset)).mappings()
    ]


def count_entries(
    conn: Connection,
    *,
    filters: Mapping[str, str | None],
    since: datetime | None,
    until: datetime | None,
) -> int:
    query = select(func.count()).select_from(audit_log)
    for name, value in filters.items():
        if value:
            query = query.where(audit_log.c[name] == value)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    return int(conn.execute(query).scalar() or 0)
