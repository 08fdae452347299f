"""Rows the SQLite writer has read, kept for the next calls of the same flow.

A person's 1101, 2201, 2204, 2206 and 2207 each read the same person, insurance and identity
rows; on SQLite one thread (the writer, `storage.writer`) runs every settlement's statements,
so it can keep what it read and answer the next call from memory — as long as nothing it has
not seen changed those rows. The cache is kept true by three rules:

- **writes evict**: a Core INSERT, UPDATE or DELETE of a watched table (`WATCHED`: the person,
  insurance, identity, accumulator and visit tables) on the writer's connection empties the cache
  (`watch`, an engine event) — unless the statement names the one key it writes
  (`evicting`), which alone is dropped — and so does any textual statement that is not a
  SELECT; a statement prepared at the driver level (`storage.prepared`) that writes one of
  them calls `forget` itself (`settlement.repo.persons.set_balance`,
  `settlement.repo.visits.insert_visit`, `settlement.repo.accumulators.add_to_accumulators`),
  and so does the one cached row outside those tables, the credential generation that every
  call checks (`enrolment.repo.credentials.bump_generation`);
- **other connections' commits clear it**: at the start of each of the writer's transactions
  `PRAGMA data_version` tells whether any other connection (a `yibao enrol` in another
  process, a restore) committed since (sqlite.org/pragma.html#pragma_data_version), and the
  driver connection's `total_changes` whether anyone wrote through *this* connection while
  the writer had handed it back to the pool; if so the cache starts empty;
- **undone work clears it**: a job rolled back to its savepoint, or a transaction that fails,
  may have read its own uncommitted writes: the cache is emptied.

Only the writer's connection carries the cache, and only during its transaction
(`installed`); every other connection reads the store (`of` returns None).

MySQL-protocol stores run many writers and keep nothing between transactions. There a cache
lives for one transaction (`for_transaction`: a write job, an interface read), so that the rows
a settlement needs — person, insurance (under its row lock), identities, the year's totals —
are read together in one request (`prefetch`, multi-statements) rather than a round trip each;
a write in the transaction evicts as above.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Executable, TextClause, event
from sqlalchemy.sql.dml import UpdateBase

from yibao.storage import deferred
from yibao.storage.prepared import Prepared, fetch_together

#: the key under which the writer's connection carries its cache (`Connection.info`)
_KEY = "yibao.row_cache"
#: the tables whose rows are cached: a write to one of them empties the cache
WATCHED = frozenset({"psn", "psn_insu", "psn_idet", "psn_accum", "mdtrt"})
#: the execution option by which a Core write names the cache key it changes (`evicting`)
_EVICTS = "yibao_row_cache_evicts"


class RowCache:
    """Rows by key, emptied whole when it reaches `limit` entries (a bounded memory without
    the bookkeeping of an LRU: a refill costs one read per row)."""

    __slots__ = ("_rows", "changes", "clears", "hits", "limit", "misses", "owner", "version")

    def __init__(self, limit: int = 20_000) -> None:
        self._rows: dict[Hashable, Any] = {}
        self.limit = limit
        #: the driver connection the rows were read on, its `data_version` and its
        #: `total_changes` when the writer last used it
        self.owner: object = None
        self.version = -1
        self.changes = -1
        self.hits = 0
        self.misses = 0
        self.clears = 0

    def get(self, key: Hashable) -> Any:
        value = self._rows.get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, key: Hashable, value: Any) -> None:
        if len(self._rows) >= self.limit:
            self._rows.clear()
        self._rows[key] = value

    def holds(self, key: Hashable) -> bool:
        return key in self._rows

    def forget(self, key: Hashable) -> None:
        self._rows.pop(key, None)

    def clear(self) -> None:
        if self._rows:
            self._rows.clear()
            self.clears += 1

    def __len__(self) -> int:
        return len(self._rows)


def of(conn: Connection) -> RowCache | None:
    """The cache `conn` carries (the SQLite writer's, during its transaction), else None."""
    cache: RowCache | None = conn.info.get(_KEY)
    return cache


def row(
    conn: Connection, key: Hashable, load: Callable[[], dict[str, Any] | None]
) -> dict[str, Any] | None:
    """The row under `key`: from the cache `conn` carries, else `load()` (kept when found);
    the caller's own copy. Without a cache, `load()` as it is."""
    cache = of(conn)
    if cache is None:
        return load()
    found = cache.get(key)
    if found is None:
        found = load()
        if found is None:
            return None
        cache.put(key, found)
    return dict(found)


def rows(
    conn: Connection, key: Hashable, load: Callable[[], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """`row` for a list of rows (an empty list is kept too)."""
    cache = of(conn)
    if cache is None:
        return load()
    found = cache.get(key)
    if found is None:
        found = load()
        cache.put(key, found)
    return [dict(r) for r in found]


def forget(conn: Connection, key: Hashable) -> None:
    """A write to the row cached under `key` on `conn`: drop it."""
    cache = of(conn)
    if cache is not None:
        cache.forget(key)


def clear(conn: Connection) -> None:
    """A write on `conn` that may touch any cached row: drop them all."""
    cache = of(conn)
    if cache is not None:
        cache.clear()


@contextmanager
def for_transaction(conn: Connection) -> Iterator[RowCache]:
    """(MySQL protocol) A cache for the rest of `conn`'s transaction (module doc)."""
    cache = RowCache(limit=256)
    # the dict itself: after a lost connection `conn.info` raises, and must not replace the
    # error that ended the transaction
    info = conn.info
    info[_KEY] = cache
    try:
        yield cache
    finally:
        info.pop(_KEY, None)


#: one read for `prefetch`: the cache key, the statement, its parameters, and whether the key
#: holds the statement's rows (a list) or its first row
Read = tuple[Hashable, Prepared, Mapping[str, Any], bool]


def prefetching(conn: Connection) -> bool:
    """Whether `prefetch` reads anything on `conn` (a transaction's cache of the MySQL
    protocol with multi-statements): a caller may skip building its reads otherwise."""
    return of(conn) is not None and conn.dialect.name != "sqlite" and deferred.accepts(conn)


def prefetch(conn: Connection, reads: Sequence[Read]) -> None:
    """Read what the cache `conn` carries lacks of `reads` in one request, in their order,
    and keep it (a first row not found is not kept: its reader asks again and says so). Only
    on a transaction's cache of the MySQL protocol with multi-statements; elsewhere nothing
    (each reader reads as it always does)."""
    if not prefetching(conn):
        return
    cache = of(conn)
    assert cache is not None
    wanted = [r for r in reads if not cache.holds(r[0])]
    if len(wanted) < 2:
        return
    found = fetch_together(conn, [(statement, params) for _k, statement, params, _m in wanted])
    for (key, _s, _p, many), rows in zip(wanted, found, strict=True):
        if many:
            cache.put(key, rows)
        elif rows:
            cache.put(key, rows[0])


def watch(engine: Engine) -> None:
    """Empty the cache of a connection of `engine` on which a watched table is written."""
    if not event.contains(engine, "before_execute", _on_execute):
        event.listen(engine, "before_execute", _on_execute)


def evicting(statement: Executable, key: Hashable) -> Any:
    """`statement` (a Core write of one watched row) marked with the one cache key it
    changes: only that key is dropped when it runs, not the whole cache."""
    return statement.execution_options(**{_EVICTS: key})


def _on_execute(conn: Connection, statement: Any, *_args: Any) -> None:
    cache: RowCache | None = conn.info.get(_KEY)
    if cache is None:
        return
    if isinstance(statement, UpdateBase):
        table = getattr(statement, "table", None)
        if getattr(table, "name", None) in WATCHED:
            key = statement.get_execution_options().get(_EVICTS)
            if key is not None:
                cache.forget(key)
            else:
                cache.clear()
    elif isinstance(statement, TextClause) and statement.text.lstrip()[:6].upper() != "SELECT":
        cache.clear()


@contextmanager
def installed(conn: Connection, cache: RowCache) -> Iterator[RowCache]:
    """Carry `cache` on the writer's connection `conn` for one transaction (begun): emptied
    first when another connection committed since the rows were read (`PRAGMA data_version`,
    which a connection's own commits leave unchanged), when rows were written through this
    connection outside the writer (`total_changes`), or when it is not the connection they
    were read on."""
    raw = conn.connection.dbapi_connection
    assert raw is not None  # None only on a connection that was invalidated
    found = raw.execute("PRAGMA data_version").fetchone()
    version = int(found[0]) if found else -1
    changes = raw.total_changes
    if cache.owner is not raw or cache.version != version or cache.changes != changes:
        cache.clear()
        cache.owner, cache.version = raw, version
    info = conn.info
    info[_KEY] = cache
    try:
        yield cache
    except BaseException:
        cache.clear()  # the transaction's reads may have seen its own undone writes
        raise
    finally:
        info.pop(_KEY, None)
        cache.changes = raw.total_changes
