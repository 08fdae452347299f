"""The DuckDB file of the replica: schema, applying batches, bulk appends, snapshots.

One `ReplicaStore` per process owns the file (DuckDB allows one read-write process). Writes
come from one thread at a time (the applier, a rebuild, or the bulk loader); reads take their
own cursor and run in a DuckDB transaction that also reads `applied_seq`, so every answer
knows exactly which change-log position it reflects.

DuckDB's threads and memory are capped from the settings (`duckdb_threads`, default 1;
`duckdb_memory_limit`), so the analytics cannot starve the settlement path of CPU.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from yibao.errors import ConfigError
from yibao.kit.priority import lower_this_thread
from yibao.replica import persons
from yibao.replica.batches import Batch
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.schema import (
    AMOUNT_SQL_TYPE,
    BY_ENTITY,
    ENTITIES,
    MEASURE_NAMES,
    MEASURES,
    META_DDL,
    ROLLUPS,
    SCHEMA_VERSION,
    SUM_SQL_TYPE,
    Entity,
    Rollup,
    arrow_type_of,
    constant,
    measures_of,
)
from yibao.storage.changelog import DELETE, INSERT, UPSERT

log = logging.getLogger(__name__)

#: the id (not the key) of the pseudonym key the file's `psn_ref` values were made with
KEY_DDL = "CREATE TABLE IF NOT EXISTS replica_key (key_id VARCHAR NOT NULL)"

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: statements kept prepared on the applier's cursor (`ReplicaStore._statement`)
_PREPARED_MAX = 64
_META_SQL = (
    "UPDATE replica_meta SET applied_seq = $1, applied_ts_ms = $2, applied_at_ms = $3 WHERE id = 1"
)


@dataclass(frozen=True)
class Meta:
    schema_version: int
    applied_seq: int
    #: change-log ts_ms of the last applied change (its commit time in the row store)
    applied_ts_ms: int
    #: wall-clock ms when the last batch was applied
    applied_at_ms: int
    #: how the replica was filled: log | tables | bulk
    source: str


#: what the rollups need of a settlement image, its measures already signed by the image's
#: own `sign` (MEASURES): returned by the DELETE of replaced images (`_DELTA_COLUMNS`),
#: worked out in Arrow for the images a batch appends (`_deltas`), in one shape (`_DELTA`)
_ROLLUP_KEYS: tuple[str, ...] = tuple(dict.fromkeys(k for r in ROLLUPS for k in r.keys))
_DELTA_COLUMNS = ", ".join(
    [
        "setl_date",
        "psn_ref",
        *(f"COALESCE({k}, '') AS {k}" for k in _ROLLUP_KEYS),
        *(f"({expr}) AS {name}" for name, _, expr in MEASURES),
    ]
)
_DELTA = pa.schema(
    [
        pa.field("setl_date", pa.date32()),
        pa.field("psn_ref", pa.string()),
        *(pa.field(k, pa.string()) for k in _ROLLUP_KEYS),
        *(
            pa.field(name, arrow_type_of(AMOUNT_SQL_TYPE if sql == SUM_SQL_TYPE else "BIGINT"))
            for name, sql, _expr in MEASURES
        ),
    ]
)


def _deltas(facts: pa.Table) -> pa.Table:
    """`_DELTA_COLUMNS` of `setl_fact` rows not yet in the file (`Entity.images`), in Arrow."""
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "setl_date": facts.column("setl_date"),
        "psn_ref": facts.column("psn_ref"),
    }
    for key in _ROLLUP_KEYS:
        columns[key] = pc.fill_null(facts.column(key), constant("", pa.string()))
    columns.update(measures_of(facts))
    return pa.table(columns).cast(_DELTA)


_SUM = pc.ScalarAggregateOptions(skip_nulls=True, min_count=0)


def _negated(images: pa.Table) -> pa.Table:
    """Replaced images count against the rollups: every measure negated."""
    for name in MEASURE_NAMES:
        i = images.schema.get_field_index(name)
        images = images.set_column(i, name, pc.negate(images.column(i)))
    return images


def _summed(change: pa.Table, rollup: Rollup) -> pa.Table:
    """A batch's signed images summed by the rollup's day and keys, in the rollup's column
    order, appended as new rows: the rollup may hold several rows per day and key — every
    query sums — until the day is compacted (recomputed from the facts) when the applier seals
    it. One append per rollup is cheaper than merging by key, and DuckDB's MERGE and `INSERT …
    ON CONFLICT DO UPDATE` on a keyed rollup are slower still (docs/replica.md). The sums are
    Arrow's hash aggregation — for a batch's handful of rows far cheaper than a DuckDB
    statement with forty aggregates, whose set-up alone takes milliseconds — and exact:
    integers and decimals, never floats."""
    keys = ["setl_date", *rollup.keys]
    summed = change.group_by(keys, use_threads=False).aggregate(
        [(name, "sum", _SUM) for name in MEASURE_NAMES]
    )
    return summed.select([*keys, *(f"{name}_sum" for name in MEASURE_NAMES)]).rename_columns(
        [*keys, *MEASURE_NAMES]
    )


def _all_new(table: pa.Table) -> bool:
    """Every image of the batch is its key's first (`insert`): the file cannot hold any."""
    ops = table.column("op")
    return bool(pc.all(pc.equal(ops, constant(INSERT, pa.string()))).as_py())


def _inserts_as_upserts(table: pa.Table) -> pa.Table:
    """The batch with every `insert` taken for an `upsert` (below `replay_until`)."""
    i = table.schema.get_field_index("op")
    ops = table.column(i)
    text = pa.string()
    now = pc.if_else(pc.equal(ops, constant(INSERT, text)), constant(UPSERT, text), ops)
    return table.set_column(i, "op", now)


Inserter = Callable[[duckdb.DuckDBPyConnection, str, pa.Table], None]


def _insert_arrow_by_relation(cur: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    cur.from_arrow(rows).insert_into(table)


def _direct_insert() -> Inserter | None:
    """DuckDB 2's own way under `from_arrow(…).insert_into`, without the relation it builds
    first: the Arrow table put under a name for the statement's life, one INSERT reading it.
    The relation binds a `SELECT *` over the rows before the INSERT binds it again, a third
    of a small append's CPU (docs/measurements.md). None where the package lacks it (DuckDB 1)."""
    seam = getattr(duckdb, "_seam", None)
    register = getattr(seam, "register_source", None)
    submit = getattr(seam, "submit", None)
    if register is None or submit is None:
        return None

    def insert(cur: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
        source = register(cur, rows)
        name = source.name.replace('"', '""')
        submit(cur, f'INSERT INTO {table} SELECT * FROM "{name}"', None)

    return insert


_PROBE = pa.table(
    {
        "amount": pa.array([Decimal("1.05"), None], pa.decimal128(16, 2)),
        "text": pa.array(["甲", None], pa.string()),
    }
)


def _lands(insert: Inserter) -> bool:
    """Whether `insert` puts rows into a table of an in-memory database as `from_arrow` would:
    the internal module `_direct_insert` relies on is not part of DuckDB's promised API, so a
    package whose `_seam` behaves otherwise is caught here, not in the applier."""
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE probe (amount DECIMAL(16,2), text VARCHAR)")
        insert(con, "probe", _PROBE)
        found = con.execute("SELECT amount, text FROM probe ORDER BY amount").fetchall()
        return found == [(Decimal("1.05"), "甲"), (None, None)]
    except Exception:  # any failure of the shortcut means: use the public way
        return False
    finally:
        con.close()


@functools.cache
def _inserter() -> Inserter:
    """The way appends go in this process, picked at the first: the direct one where it is
    there and proven, else `from_arrow`."""
    direct = _direct_insert()
    if direct is None:
        return _insert_arrow_by_relation
    if not _lands(direct):
        log.info(
            "DuckDB %s: its direct Arrow insert misbehaved; appending through from_arrow",
            duckdb.__version__,
        )
        return _insert_arrow_by_relation
    return direct


def _insert_arrow(cur: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """Append Arrow rows to `table` (its columns in the rows' order)."""
    _inserter()(cur, table, rows)


class _Gate:
    """Many readers or one exclusive holder (used to swap the file under the readers)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._exclusive:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            while self._exclusive:
                self._cond.wait()
            self._exclusive = True
            while self._readers:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


def _date_list(values: Sequence[str | date | None]) -> str | None:
    """A SQL list of DATE literals (validated), or None when a value is missing or malformed."""
    if not values or any(v is None for v in values):
        return None
    unique = sorted({str(v) for v in values})
    if not all(_DATE_RE.match(v) for v in unique):
        return None
    return ", ".join(f"DATE '{v}'" for v in unique)


class ReplicaStore:
    def __init__(
        self,
        path: Path | str,
        *,
        threads: int = 1,
        memory_limit: str = "1GB",
        read_only: bool = False,
        pseudonyms: Pseudonyms | None = None,
    ) -> None:
        self.path = Path(path)
        #: psn_no → psn_ref on the way in: the file never holds a person number. Default:
        #: the key in the file's directory (the data directory), a random one in memory.
        self.pseudonyms = pseudonyms or (
            Pseudonyms.ephemeral()
            if str(path) == ":memory:"
            else Pseudonyms.for_dir(self.path.parent)
        )
        self.threads = threads
        self.memory_limit = memory_limit
        self.read_only = read_only
        #: nice steps a reading thread lowers its CPU priority by before its first snapshot
        #: (`yibao serve`'s analytics process sets it from `analytics_nice`; 0: unchanged)
        self.reader_nice = 0
        self._gate = _Gate()
        self._cursor_lock = threading.Lock()
        #: serialises writers (applier batches, bulk appends, rebuild swaps)
        self.write_lock = threading.RLock()
        self._con = self._connect()
        #: the applier's own cursor, kept between batches with its prepared statements
        #: (`_prepared`): a batch's fixed statements skip DuckDB's parse, bind and plan
        self._apply_cur: duckdb.DuckDBPyConnection | None = None
        self._prepared: OrderedDict[str, str] = OrderedDict()
        #: changes up to this seq may name keys the file already holds although their op says
        #: `insert` (a rebuild from the tables reads them after noting the log's position):
        #: their batches look for older images like any upsert. 0: every insert is new.
        self.replay_until = 0
        if not read_only:
            self.ensure_schema()
        self._meta = self._read_meta()

    # -- lifecycle -------------------------------------------------------------------------

    def _connect(self) -> duckdb.DuckDBPyConnection:
        config: dict[str, Any] = {
            "threads": max(1, int(self.threads)),
            "memory_limit": self.memory_limit,
        }
        if self.read_only:
            config["access_mode"] = "READ_ONLY"
        try:
            return duckdb.connect(str(self.path), config=config)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise ReplicaBusy(
                    f"副本文件被另一进程占用 (the replica {self.path} is open in another process, "
                    "usually `yibao serve`; use the server's API or stop it)"
                ) from None
            raise ConfigError(
                f"副本文件无法打开 (cannot open the replica {self.path}): {exc}"
            ) from None

    @contextmanager
    def widened(self, threads: int, memory_limit: str) -> Iterator[None]:
        """Run DuckDB with more threads and memory for a while (the bulk loader's final
        rewrite and rollups, when nothing else runs on the machine), then back to the caps
        from the settings."""
        with self.write_lock:
            self._con.execute(f"SET threads = {max(1, int(threads))}")
            self._con.execute("SET memory_limit = ?", [memory_limit])
        try:
            yield
        finally:
            with self.write_lock:
                self._con.execute(f"SET threads = {max(1, int(self.threads))}")
                self._con.execute("SET memory_limit = ?", [self.memory_limit])

    def close(self) -> None:
        with self.write_lock, self._gate.exclusive():
            self._drop_apply_cursor()
            try:
                self._con.close()
            except duckdb.Error:
                log.exception("closing the replica failed")

    def ensure_schema(self) -> None:
        con = self._con
        con.execute(META_DDL)
        for entity in ENTITIES:
            con.execute(entity.ddl())
        for rollup in ROLLUPS:
            con.execute(rollup.ddl())
        con.execute(persons.DDL)
        con.execute(persons.OPEN_DDL)
        con.execute(KEY_DDL)
        if con.execute("SELECT count(*) FROM replica_meta").fetchone() == (0,):
            con.execute("INSERT INTO replica_meta VALUES (1, ?, 0, 0, 0, 'log')", [SCHEMA_VERSION])
            # a new file: its pseudonyms are made with the current key
            con.execute("DELETE FROM replica_key")
            con.execute("INSERT INTO replica_key VALUES (?)", [self.pseudonyms.key_id])

    def _read_meta(self) -> Meta:
        row = self._con.execute(
            "SELECT schema_version, applied_seq, applied_ts_ms, applied_at_ms, source "
            "FROM replica_meta WHERE id = 1"
        ).fetchone()
        if row is None:
            return Meta(SCHEMA_VERSION, 0, 0, 0, "log")
        return Meta(int(row[0]), int(row[1]), int(row[2]), int(row[3]), str(row[4]))

    @property
    def meta(self) -> Meta:
        return self._meta

    @property
    def applied_seq(self) -> int:
        return self._meta.applied_seq

    def key_id(self) -> str | None:
        """The id of the pseudonym key the file was built with (None: unknown, an old file)."""
        try:
            row = self._con.execute("SELECT key_id FROM replica_key").fetchone()
        except duckdb.CatalogException:
            return None
        return None if row is None else str(row[0])

    def schema_current(self) -> bool:
        """The file has the current layout and was built with the current pseudonym key (after
        a key rotation every pseudonym changes: the replica is rebuilt)."""
        return (
            self._meta.schema_version == SCHEMA_VERSION and self.key_id() == self.pseudonyms.key_id
        )

    # -- reads -----------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._cursor_lock:
            return self._con.cursor()

    @contextmanager
    def snapshot(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, int]]:
        """A read transaction and the `applied_seq` it sees: `(cursor, seq)`. The reading
        thread first lowers its CPU priority by `reader_nice` (once per thread)."""
        lower_this_thread(self.reader_nice)
        with self._gate.shared():
            cur = self.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                row = cur.execute("SELECT applied_seq FROM replica_meta WHERE id = 1").fetchone()
                yield cur, int(row[0]) if row else 0
                cur.execute("COMMIT")
            finally:
                cur.close()

    def query(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> tuple[int, list[str], list[tuple[Any, ...]]]:
        """Run one query in a snapshot: `(seq, column names, rows)`; `params` are positional
        (`?`) or named (`$name`), as DuckDB binds them."""
        with self.snapshot() as (cur, seq):
            result = cur.execute(sql, params or [])
            names = [d[0] for d in result.description or []]
            return seq, names, result.fetchall()

    def counts(self) -> dict[str, int]:
        with self.snapshot() as (cur, _seq):
            return {e.table: count_rows(cur, e.table) for e in ENTITIES}

    # -- writes ----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, kept: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one DuckDB transaction: committed when the block ends, rolled back
        when it raises. Hold `write_lock` around it. `kept`: the applier's cursor, which
        outlives the transaction (its prepared statements with it)."""
        cur = self._apply_cursor() if kept else self.cursor()
        try:
            cur.execute("BEGIN TRANSACTION")
            yield cur
            cur.execute("COMMIT")
        except BaseException:
            with suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            raise
        finally:
            if not kept:
                cur.close()

    def _apply_cursor(self) -> duckdb.DuckDBPyConnection:
        if self._apply_cur is None:
            self._apply_cur = self.cursor()
            self._prepared = OrderedDict()
        return self._apply_cur

    def _drop_apply_cursor(self) -> None:
        if self._apply_cur is not None:
            with suppress(duckdb.Error):
                self._apply_cur.close()
        self._apply_cur = None
        self._prepared = OrderedDict()

    def _statement(self, cur: duckdb.DuckDBPyConnection, sql: str) -> str:
        """The name of `sql` prepared on the applier's cursor (prepared now if new). The last
        `_PREPARED_MAX` statements stay prepared: a date-pruned delete's text changes once a
        day, the others never."""
        name = self._prepared.get(sql)
        if name is None:
            name = "yibao_" + hashlib.blake2s(sql.encode(), digest_size=8).hexdigest()
            cur.execute(f"PREPARE {name} AS {sql}")
            self._prepared[sql] = name
            while len(self._prepared) > _PREPARED_MAX:
                _old_sql, old = self._prepared.popitem(last=False)
                cur.execute(f"DEALLOCATE {old}")
        else:
            self._prepared.move_to_end(sql)
        return name

    def _returning(self, cur: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
        """`_run` for a statement whose rows come back (… RETURNING), as Arrow."""
        if cur is not self._apply_cur:
            return cur.sql(sql).to_arrow_table()
        table: pa.Table = cur.sql(f"EXECUTE {self._statement(cur, sql)}").to_arrow_table()
        return table

    def _run(self, cur: duckdb.DuckDBPyConnection, sql: str) -> None:
        """Run one of a batch's statements (no parameters; registered views by name) prepared
        once on the applier's cursor, skipping DuckDB's parse, bind and plan the next times;
        on any other cursor, as plain SQL."""
        if cur is not self._apply_cur:
            cur.execute(sql)
            return
        cur.execute(f"EXECUTE {self._statement(cur, sql)}")

    @staticmethod
    def _append(cur: duckdb.DuckDBPyConnection, table: str, images: pa.Table) -> None:
        """Append rows already in the table's column types and order (`Entity.images`): no
        expression for DuckDB to bind and plan."""
        if images.num_rows:
            _insert_arrow(cur, table, images)

    def apply(self, batch: Batch, *, source: str | None = None, refresh: bool = True) -> Meta:
        """Apply one micro-batch and advance `applied_seq`, in one DuckDB transaction.

        The rollup rows of the days the batch touches are recomputed in the same transaction
        (`refresh=False` leaves them to one `refresh_rollups()` at the end of a rebuild)."""
        if not batch:
            return self._meta
        if batch.first_seq <= self._meta.applied_seq:
            raise ValueError(
                f"batch starts at seq {batch.first_seq} but seq {self._meta.applied_seq} is applied"
            )
        with self.write_lock:
            with self._transaction(kept=True) as cur:
                for entity in ENTITIES:
                    table = batch.tables.get(entity.entity)
                    if table is None or not table.num_rows:
                        continue
                    table = self.pseudonyms.table(table)
                    if batch.first_seq <= self.replay_until:
                        table = _inserts_as_upserts(table)
                    if entity is BY_ENTITY["setl"] and refresh:
                        self._upsert_settlements(cur, entity, table, batch.first_seq)
                    else:
                        self._upsert(cur, entity, table)
                now_ms = int(time.time() * 1000)
                if source is None and cur is self._apply_cur:
                    # the one-row position update, prepared once (integers: no quoting)
                    name = self._statement(cur, _META_SQL)
                    cur.execute(
                        f"EXECUTE {name}({int(batch.last_seq)}, {int(batch.last_ts_ms)}, {now_ms})"
                    )
                else:
                    cur.execute(
                        "UPDATE replica_meta SET applied_seq = ?, applied_ts_ms = ?, "
                        "applied_at_ms = ?, source = COALESCE(?, source) WHERE id = 1",
                        [batch.last_seq, batch.last_ts_ms, now_ms, source],
                    )
            self._meta = Meta(
                self._meta.schema_version,
                batch.last_seq,
                batch.last_ts_ms,
                now_ms,
                source or self._meta.source,
            )
            return self._meta

    def _upsert(self, cur: duckdb.DuckDBPyConnection, entity: Entity, table: pa.Table) -> set[str]:
        """Delete the batch's keys, insert its surviving images; returns the dates touched."""
        cur.register("batch_rows", table)
        try:
            touched: set[str] = set()
            prune = ""
            if entity.prune_by is not None:
                column = entity.prune_by
                source_col = "setl_date" if column == "setl_date" else "begntime"
                values = [
                    (v[:10] if isinstance(v, str) else None)
                    for v in table.column(source_col).to_pylist()
                ]
                ops = table.column("op").to_pylist()
                has_delete = DELETE in ops
                listed = None if has_delete else _date_list(values)
                if listed is not None:
                    prune = f"{column} IN ({listed}) AND "
                    touched = {v for v in values if v}
                elif column == "setl_date":
                    # deletes carry no date: find the dates of the rows they remove
                    found = cur.execute(
                        f"SELECT DISTINCT CAST(setl_date AS VARCHAR) FROM {entity.table} "
                        f"WHERE {entity.key} IN (SELECT {entity.key} FROM batch_rows)"
                    ).fetchall()
                    touched = {r[0] for r in found if r[0]} | {v for v in values if v}
            # a batch of new keys only has nothing to delete; in a mixed one deleting its new
            # keys too finds nothing, and costs less than filtering them out
            if not _all_new(table):
                self._run(
                    cur,
                    f"DELETE FROM {entity.table} WHERE {prune}{entity.key} IN "
                    f"(SELECT {entity.key} FROM batch_rows)",
                )
            self._append(cur, entity.table, entity.images(table))
            return touched
        finally:
            cur.unregister("batch_rows")

    def _upsert_settlements(
        self, cur: duckdb.DuckDBPyConnection, entity: Entity, table: pa.Table, first_seq: int
    ) -> None:
        """Settlements with incremental rollups: each rollup gets the signed difference of the
        batch (new images +1, the images they replace −1), so a batch costs O(batch), not
        O(rows of the day). Batches with deletes recompute their days instead.

        The replaced images come back from `DELETE … RETURNING` as Arrow (a batch's worth of
        rows: no second lookup of the old images by key, on a large fact table the costliest
        statement a batch could run); the new ones are the rows appended, their measures
        worked out in Arrow (`_deltas`)."""
        values = [v if isinstance(v, str) else None for v in table.column("setl_date").to_pylist()]
        listed = _date_list(values)
        if listed is None or DELETE in table.column("op").to_pylist():
            touched = self._upsert(cur, entity, table)
            if touched:
                self._refresh(cur, touched)
            return
        del first_seq  # the new images' measures are worked out from the images themselves
        # A settlement's first image (the common case, op `insert`) replaces nothing; of the
        # others a narrow probe costs a fraction of the DELETE … RETURNING it spares
        old = None if _all_new(table) else self._replaced_settlements(cur, table, listed)
        images = entity.images(table)
        self._append(cur, entity.table, images)
        new = _deltas(images)
        change = new if old is None else pa.concat_tables([_negated(old.cast(_DELTA)), new])
        for rollup in ROLLUPS:
            self._append(cur, rollup.table, _summed(change, rollup).cast(rollup.arrow_schema))
        # a settlement's person and date never change (as setl_date for pruning), so the
        # persons in the change are all whose served days this batch can move
        days = sorted({date.fromisoformat(v) for v in values if v})
        open_day = persons.open_from(cur)
        old_days = persons.sealed(days, open_day)
        if old_days:
            cur.register("setl_change", change)
            try:
                for stmt in persons.merge_statements(old_days, "SELECT psn_ref FROM setl_change"):
                    cur.execute(stmt)
            finally:
                cur.unregister("setl_change")
        self._seal(cur, days[-1] - timedelta(days=1), recomputed=set(), current=(open_day,))

    def _replaced_settlements(
        self, cur: duckdb.DuckDBPyConnection, table: pa.Table, listed: str
    ) -> pa.Table | None:
        """Delete the file's images of the batch's settlements; their `_DELTA_COLUMNS` (None
        when the file held none)."""
        cur.register("batch_rows", table)
        try:
            # (the batch's new keys among them find nothing: filtering them out costs more)
            older = "setl_id IN (SELECT setl_id FROM batch_rows)"
            probe = f"SELECT 1 FROM setl_fact WHERE setl_date IN ({listed}) AND {older} LIMIT 1"
            if not self._returning(cur, probe).num_rows:
                return None
            return self._returning(
                cur,
                f"DELETE FROM setl_fact WHERE setl_date IN ({listed}) AND {older} "
                f"RETURNING {_DELTA_COLUMNS}",
            )
        finally:
            cur.unregister("batch_rows")

    def _seal(
        self,
        cur: duckdb.DuckDBPyConnection,
        upto: date,
        *,
        recomputed: set[date],
        current: tuple[date | None] | None = None,
    ) -> None:
        """Move the frontier of "open" days up to `upto` (the day before the newest a batch
        reached, so a late settlement of yesterday still lands on an open day): the days in
        between are compacted in the day rollups (recomputed from the facts, unless just
        `recomputed`) and merged into the persons-served rollup. About once a day."""
        days = persons.days_to_seal(cur, upto, current)
        if days is None:
            return
        compact = [d for d in days if d not in recomputed]
        if compact:
            self._refresh_days(cur, f"setl_date IN ({_date_list(compact)})")
        statements = (
            persons.merge_statements(days, persons.refresh_persons_sql(days)) if days else []
        )
        for stmt in [*statements, *persons.set_open_statements(upto)]:
            cur.execute(stmt)

    def _refresh_days(self, cur: duckdb.DuckDBPyConnection, where: str) -> None:
        for rollup in ROLLUPS:
            cur.execute(f"DELETE FROM {rollup.table} WHERE {where}")
            cur.execute(rollup.refresh_sql(where))

    def _refresh(self, cur: duckdb.DuckDBPyConnection, dates: set[str] | None) -> None:
        """Recompute the rollup rows of `dates` (every day when None) from the fact table."""
        if dates is None:
            self._refresh_days(cur, "TRUE")
            for stmt in persons.rebuild_statements():
                cur.execute(stmt)
            return
        listed = _date_list(sorted(dates))
        if listed is None:
            return
        self._refresh_days(cur, f"setl_date IN ({listed})")
        days = sorted({date.fromisoformat(d) for d in dates})
        old = persons.sealed(days, persons.open_from(cur))
        if old:
            for stmt in persons.merge_statements(old, persons.refresh_persons_sql(old)):
                cur.execute(stmt)
        self._seal(cur, days[-1] - timedelta(days=1), recomputed=set(days))

    def cluster_facts(self) -> None:
        """Rewrite `setl_fact` in settlement-date order. Live settlements arrive in time order,
        so their row groups each cover a few hours and a day's query reads one or two of them
        (DuckDB's zone maps); a bulk load appends slices that each span its whole period, and
        a one-day query then scans every row group (docs/measurements.md). Once, after a bulk
        load; a plain rewrite, the rows and their columns unchanged."""
        entity = BY_ENTITY["setl"]
        with self.write_lock, self._gate.exclusive(), self._transaction() as cur:
            self._drop_apply_cursor()  # its prepared statements name the table replaced
            cur.execute("DROP TABLE IF EXISTS setl_fact_sorted")
            cur.execute(entity.ddl("setl_fact_sorted"))
            cur.execute(
                "INSERT INTO setl_fact_sorted SELECT * FROM setl_fact ORDER BY setl_date, setl_time"
            )
            cur.execute("DROP TABLE setl_fact")
            cur.execute("ALTER TABLE setl_fact_sorted RENAME TO setl_fact")

    def refresh_rollups(self, dates: set[str] | None = None) -> None:
        """Recompute rollups (all days by default) — after a bulk load."""
        with self.write_lock, self._transaction() as cur:
            self._refresh(cur, dates)

    def bulk_append(
        self,
        entity_name: str,
        table: pa.Table,
        *,
        upsert: bool = False,
        refresh_rollups: bool = True,
        seq: int = 0,
    ) -> int:
        """Append payload-shaped rows straight into the replica (the bulk loader's path).

        `table` holds the payload columns of `replica.rows` (amounts in integer fen, datetimes
        as `yyyy-MM-dd HH:mm:ss` text); other columns are ignored. With `upsert` the keys are
        deleted first; without it the caller guarantees the keys are new (fastest). Settlements
        are sorted by date before insertion so that date filters prune row groups. Rollups of
        the touched days are recomputed unless `refresh_rollups=False` (then call
        `refresh_rollups()` once at the end of the load). Returns the rows appended.
        """
        entity = BY_ENTITY[entity_name]
        schema = entity.arrow_schema
        n: int = table.num_rows
        if n == 0:
            return 0
        columns = []
        for f in schema:
            if f.name == "seq":
                columns.append(
                    pa.array([seq] * n, pa.int64())
                    if "seq" not in table.column_names
                    else table.column("seq").cast(pa.int64())
                )
            elif f.name == "op":
                columns.append(pa.array(["upsert"] * n, pa.string()))
            elif f.name in table.column_names:
                columns.append(table.column(f.name).cast(f.type))
            else:
                columns.append(pa.nulls(n, f.type))
        shaped = self.pseudonyms.table(pa.Table.from_arrays(columns, schema=schema))
        if entity.entity == "setl":
            shaped = shaped.sort_by([("setl_date", "ascending"), ("setl_time", "ascending")])
        elif entity.entity == "fee":
            shaped = shaped.sort_by([("setl_date", "ascending")])
        with self.write_lock:
            with self._transaction() as cur:
                if upsert:
                    self._upsert(cur, entity, shaped)
                else:
                    self._append(cur, entity.table, entity.images(shaped))
                if entity.entity == "setl" and refresh_rollups:
                    dates = set(pc.unique(shaped.column("setl_date")).to_pylist()) - {None}
                    self._refresh(cur, {str(d) for d in dates})
                cur.execute(
                    "UPDATE replica_meta SET source = 'bulk' WHERE id = 1 AND applied_seq = 0"
                )
            self._meta = self._read_meta()
        return n

    def set_applied(self, seq: int, ts_ms: int, *, source: str) -> None:
        """Record that the replica reflects the change log up to `seq` (bulk load, rebuild)."""
        with self.write_lock:
            now_ms = int(time.time() * 1000)
            self._con.execute(
                "UPDATE replica_meta SET applied_seq = ?, applied_ts_ms = ?, applied_at_ms = ?, "
                "source = ?, schema_version = ? WHERE id = 1",
                [seq, ts_ms, now_ms, source, SCHEMA_VERSION],
            )
            self._meta = Meta(SCHEMA_VERSION, seq, ts_ms, now_ms, source)

    def checkpoint(self) -> None:
        with self.write_lock:
            self._con.execute("CHECKPOINT")

    def copy_to(self, target: Path) -> int:
        """A consistent copy of the replica file at `target` (a backup); returns the
        `applied_seq` it holds. Writers and readers wait for the few moments of the copy."""
        with self.write_lock, self._gate.exclusive():
            self._con.execute("CHECKPOINT")
            shutil.copyfile(self.path, target)
            return self._meta.applied_seq

    def swap(self, new_path: Path) -> None:
        """Replace the file with a rebuilt one (`new_path`, closed) under every reader."""
        with self.write_lock, self._gate.exclusive():
            self._drop_apply_cursor()
            self._con.close()
            wal = Path(str(self.path) + ".wal")
            new_path.replace(self.path)
            if wal.exists():
                wal.unlink()
            self._con = self._connect()
            self.ensure_schema()
            self._meta = self._read_meta()


class ReplicaBusy(ConfigError):
    """The DuckDB file is owned by another process (the server)."""

    status_code = 409
    code = "replica_busy"


def count_rows(cur: duckdb.DuckDBPyConnection, table: str) -> int:
    """`count(*)` of a replica table (an aggregate without GROUP BY always answers one row)."""
    row = cur.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])
