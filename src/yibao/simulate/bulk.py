"""Bulk load: a whole city straight into the row store and the replica, through the same
policy calculator, catalog terms, restriction check and accumulator keys as live settlement,
with the same replica payloads (`yibao.replica.rows`), so that `yibao replica verify` and every
identity hold afterwards.

Shape of the work: the main process generates institutions and persons (ID numbers must be
unique city-wide) and is the single writer; a pool of worker processes (one per core) turns
chunks of persons into a year of visits and settles them in order person by person. A worker
spools the chunk's row-store rows into a small SQLite file (`yibao.simulate.spool`) and
returns Arrow tables of replica payloads; the writer copies the spools into the row store with
`INSERT … SELECT` (a few chunks a transaction, `spool.MERGE_GROUP`) and appends the Arrow
tables to the DuckDB replica. The workers start on the first chunks while the writer writes the persons (a head
start, `head_start`), so that no core idles meanwhile; no chunk's rows go in before the
persons they name. On a MySQL-protocol store the rows come back pickled and go in with
executemany.

The replica path, not the change log: ten million settlements through the log would double
the row store's size and take the applier many minutes to replay. Instead the loader first
brings the replica up to the log's end, then **reserves one seq without writing its row** (a
hole in the log), appends the city straight into the replica and finally records the hole as
applied. The hole is what keeps every other path honest: a replica that did not get the bulk
rows (none was open, or the load stopped midway) meets the hole as a gap at the next change
and is rebuilt from the tables, and `replica rebuild` never takes a log with a hole as complete.

Durability: on a fresh store (no settlement yet) the load runs with SQLite
`synchronous=OFF` and its journal in memory, behind a marker file beside the store
(`<store>.bulk-loading`): a crash midway leaves a store to throw away and load again, and
the marker keeps every engine off it until then (`storage.engine.unfinished_load_marker`).
At the end the store goes back to WAL and its configured mode and the marker goes away; a
load that fails with an error (each group of chunks merged committed or rolled back) does the
same.
On a store that already holds settlements it keeps the configured mode. After a crash
midway, `yibao replica rebuild` makes the replica whole again.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
import os
import shutil
import sqlite3
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Engine, func, select

from yibao.catalog.model import CatalogItem
from yibao.catalog.repo import item_from_row
from yibao.kit.clock import local_naive_now
from yibao.kit.collector import young_collections_only
from yibao.kit.ids import IdGenerator
from yibao.policy import PolicyBook, load_book
from yibao.replica import batches
from yibao.replica import rows as replica_rows
from yibao.replica.store import ReplicaStore
from yibao.simulate.catalog_seed import ensure_sim_catalog
from yibao.simulate.chunk_rows import ChunkRows
from yibao.simulate.clinical import BUILTIN_ITEMS
from yibao.simulate.context import CityContext
from yibao.simulate.model import CityParams, Institution, Label, Person
from yibao.simulate.people import PersonFactory, make_institutions
from yibao.simulate.rates import expected_visits
from yibao.simulate.row_shapes import constants_for
from yibao.simulate.settle_rows import Settler
from yibao.simulate.spool import (
    MERGE_GROUP,
    ROW_TABLES,
    insert_sql,
    merge_spools,
    merge_statements,
    write_spool,
)
from yibao.simulate.store import write_institutions, write_persons
from yibao.simulate.visits import build_chunk, institution_labels
from yibao.storage import changelog
from yibao.storage.engine import unfinished_load_marker
from yibao.storage.tables import (
    catalog_item,
    fee_detail,
    psn_accum,
    psn_insu,
    setl,
)

PERSONS_PER_CHUNK = 2000
#: settlements per row-store transaction (the replica gets the rows after each commit)
COMMIT_EVERY = 200_000
#: the most SQLite page cache the bulk writer takes (KiB)
BULK_CACHE_KIB = 6144 * 1024


def bulk_cache_kib() -> int:
    """The bulk writer's page cache: a fifth of the machine's memory, at most 6 GiB (at least
    64 MiB); the load gives it back when it ends.

    Why this much: every merged row goes into three to six indexes, and those keyed by time
    (`setl_time`, `fixmedins_code, setl_time`) take a chunk's rows all over their pages, while
    the tables' new pages stream through the same cache; with 512 MiB a load re-read index
    pages from the kernel all through (1M: 91.7 → 84.7 s with 2 GiB; 10M: 921.5 → 878.6 s
    with 2 → 2.9 GiB, then 913.9 → see RESULTS with 2.9 → 4.7 GiB, on a 23.5 GiB machine)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # pragma: no cover - every Linux answers
        return BULK_CACHE_KIB
    return max(64 * 1024, min(BULK_CACHE_KIB, total // 5 // 1024))


def chunk_size(persons: int) -> int:
    """Persons per chunk: a function of the city's size only (not of the worker count), so
    that a seed gives the same city on any machine; small cities still make ≥ 8 chunks."""
    return max(100, min(PERSONS_PER_CHUNK, persons // 8 or 1))


Progress = Callable[[str, int, int], None]


@dataclass
class BulkReport:
    persons: int = 0
    institutions: int = 0
    visits: int = 0
    settlements: int = 0
    reversals: int = 0
    refused: int = 0
    #: visits left unsettled because they would settle after `settle_until`
    unsettled: int = 0
    refusals: list[str] = field(default_factory=list)
    fee_lines: int = 0
    labels: int = 0
    seconds: float = 0.0
    synchronous: str = "FULL"
    disk_bytes: int = 0
    replica_bytes: int = 0
    #: the seq reserved (never written) for this load; the replica is applied up to it
    reserved_seq: int = 0
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def settlements_per_s(self) -> float:
        return self.settlements / self.seconds if self.seconds else 0.0


# ------------------------------------------------------------------ worker side

_W: dict[str, Any] = {}


def _init_worker(
    ctx: CityContext,
    book: PolicyBook,
    catalog: dict[str, CatalogItem],
    now: datetime,
    until: datetime | None,
    spool: Path | None,
    chunks: Sequence[tuple[int, list[Person]]],
) -> None:
    _W["ctx"] = ctx
    # the workers are forked: the chunks' persons are here already, and a task names its
    # chunk by number. A task holding the persons themselves was pickled into the pool's
    # pipe by the pool's task thread, which then could block on a full pipe for good when
    # the workers were terminated after an error (Pool.terminate joins that thread: a load
    # whose workers failed hung now and then instead of raising).
    _W["chunks"] = chunks
    _W["settler"] = Settler(
        book,
        catalog,
        {i.fixmedins_code: i for i in ctx.institutions},
        now=now,
        until=until,
        compact=spool is not None,  # a spool takes compact fee lines
    )
    _W["spool"] = spool
    gc.disable()  # `young_collections_only`: the worker collects at each chunk's start


def _work(k: int) -> tuple[int, ChunkRows, list[Label], int]:
    chunk, persons = _W["chunks"][k]
    gc.collect(0)  # the cycles the last chunk left, now that its results are gone
    builder = build_chunk(_W["ctx"], chunk, persons)
    rows = _W["settler"].run(persons, builder.visits)
    labels = builder.labels
    if _W["spool"] is not None:
        write_spool(_W["spool"], chunk, rows)
    if rows.unsettled_visits:  # a label must name a visit the store holds
        labels = [lb for lb in labels if lb.visit_no not in rows.unsettled_visits]
        rows.unsettled_visits = set()
    return chunk, rows, labels, len(builder.visits) - rows.unsettled


# ------------------------------------------------------------------ writer side


class _Writer:
    """Writes chunks' rows: spools `MERGE_GROUP` at a time with `INSERT … SELECT`, each group
    in a transaction of its own (SQLite; `flush` merges what is held), else with executemany
    inside the caller's transaction."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.raw = conn.connection.driver_connection
        style = conn.dialect.paramstyle
        constants = {name: constants_for(t, now) for name, t in ROW_TABLES.items()}
        self.sql = {name: insert_sql(t, style, constants[name]) for name, t in ROW_TABLES.items()}
        self.merge = merge_statements(constants, now)
        #: spools received and not merged yet (at most MERGE_GROUP − 1 between calls)
        self.held: list[str] = []

    def write(self, rows: ChunkRows, *, last: bool = False) -> None:
        """`last`: no chunk is left to hand the workers, so a spool is merged at once — the
        workers soon run out of work, and a group held until then would be merged by one core
        while the other idles."""
        if rows.spool is not None:
            self.held.append(rows.spool)
            if last or len(self.held) >= MERGE_GROUP:
                self.flush()
            return
        cur = self.raw.cursor()
        for name in ROW_TABLES:
            data = getattr(rows, name)
            if data:
                cur.executemany(self.sql[name], data)
        cur.close()

    def flush(self) -> None:
        """Merge the spools held (their rows are in the row store once this returns)."""
        if self.held:
            paths, self.held = self.held, []
            merge_spools(self.raw, paths, self.merge)


class _ReplicaFeed:
    """Arrow tables waiting for the replica; appended after each row-store commit, so the
    replica never holds a row the row store might still roll back."""

    def __init__(self, store: ReplicaStore | None) -> None:
        self.store = store
        self.pending: dict[str, list[pa.Table]] = {}

    def add(self, entity: str, table: pa.Table) -> None:
        if self.store is not None and table.num_rows:
            self.pending.setdefault(entity, []).append(table)

    def flush(self) -> None:
        if self.store is None:
            return
        for entity in (replica_rows.FIXMEDINS, replica_rows.PSN, replica_rows.MDTRT,
                       replica_rows.SETL):  # fmt: skip
            parts = self.pending.pop(entity, [])
            if parts:
                table = pa.concat_tables(parts)
                self.store.bulk_append(entity, table, refresh_rollups=False)


def _spool_dir(engine: Engine) -> Path | None:
    """A fresh spool directory beside the SQLite row store (None for an in-memory store)."""
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(tempfile.mkdtemp(prefix=".bulk-spool-", dir=Path(database).resolve().parent))


def _quarter_of_memory(configured: str) -> str:
    """A quarter of the machine's memory as a DuckDB memory limit, or the configured limit
    where the machine's size is not known."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return configured
    return f"{max(1, total // 4 // 2**20)}MB"


def _journal_in_memory(raw: Any, database: str | None) -> Path | None:
    """Put a fresh store's journal in memory for the load, behind the unfinished-load marker
    (`storage.engine.unfinished_load_marker`); None when it stays in WAL (an in-memory store,
    or another connection open on it).

    Why: in WAL every merged page is written twice — into the log at commit, into the file
    at the checkpoint — which cost the writer ~14 µs a settlement and the kernel a third of
    the load's system time (1M settlements: 141 → 127 s). A rollback journal in memory still
    lets a failed merge roll back; only a crash midway can damage the file, and the marker
    keeps every engine off such a store until it is deleted."""
    if not database or database == ":memory:":
        return None
    marker = unfinished_load_marker(database)
    marker.write_text(
        f"bulk load of a fresh store, pid {os.getpid()}, started {local_naive_now():%Y-%m-%d %H:%M:%S}\n"
    )
    try:
        (mode,) = raw.execute("PRAGMA journal_mode=MEMORY").fetchone()
    except sqlite3.OperationalError:  # another connection holds the store open
        mode = "wal"
    if str(mode).lower() != "memory":
        marker.unlink()
        return None
    return marker


def _journal_back_to_wal(raw: Any, marker: Path) -> None:
    (mode,) = raw.execute("PRAGMA journal_mode=WAL").fetchone()
    if str(mode).lower() != "wal":  # pragma: no cover - the loader holds the only connection
        raise RuntimeError(f"the row store stayed in journal mode {mode} after the bulk load")
    marker.unlink(missing_ok=True)


class _InOrder:
    """The chunks' results in order, with at most `window` chunks in flight: `Pool.imap`
    queues every task at once and buffers every finished result, so workers that outrun the
    writer would pile a city's rows up in memory. `start(extra)` lets the first `window +
    extra` go at once: the workers' head start while the writer is busy with the persons."""

    def __init__(self, pool: Any, chunks: int, window: int):
        self.pool = pool
        self.chunks = chunks
        self.tasks = iter(range(chunks))
        self.window = window
        self.inflight: deque[Any] = deque()
        self.dispatched = 0

    @property
    def all_dispatched(self) -> bool:
        """Every chunk is with the workers (or done): the results still to come are the last."""
        return self.dispatched == self.chunks

    def start(self, extra: int = 0) -> None:
        self._fill(self.window + extra)

    def _fill(self, upto: int) -> None:
        for task in islice(self.tasks, max(0, upto - len(self.inflight))):
            self.inflight.append(self.pool.apply_async(_work, (task,)))
            self.dispatched += 1

    def __iter__(self) -> Iterator[Any]:
        self.start()
        while self.inflight:
            result = self.inflight.popleft().get()
            self._fill(self.window)
            yield result


def head_start(chunks: int) -> int:
    """Chunks the workers may settle ahead while the writer writes the persons: about what two
    workers finish meanwhile (the persons of a chunk take the writer ~1/30 of the time that
    chunk's settlements take the workers), at most 32 (each waits with its Arrow tables in
    memory and its spool on disk)."""
    return min(32, chunks // 16)


def _final_person_rows(
    conn: Connection,
    persons: dict[str, tuple[Decimal, dict[tuple[int, str], Decimal]]],
    insutype: dict[str, str],
    now: datetime,
) -> None:
    raw = conn.connection.driver_connection
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cur = raw.cursor()
    cur.executemany(
        f"UPDATE psn_insu SET balc = {mark} WHERE psn_no = {mark} AND insutype = {mark}",
        [(int(b * 100), psn_no, insutype[psn_no]) for psn_no, (b, _acc) in persons.items()],
    )
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    cur.executemany(
        f"INSERT INTO psn_accum (psn_no, year, acc_key, amount, updated_at) VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
        [
            (psn_no, year, key, int(amount * 100), stamp)
            for psn_no, (_b, acc) in persons.items()
            for (year, key), amount in acc.items()
        ],
    )
    cur.close()


def load_catalog_terms(conn: Connection) -> dict[str, CatalogItem]:
    """The catalog terms of the codes the city bills (as live settlement would find them)."""
    codes = [i.code for i in BUILTIN_ITEMS]
    rows = conn.execute(
        select(catalog_item).where(
            catalog_item.c.hilist_code.in_(codes), catalog_item.c.vali_flag == "1"
        )
    ).mappings()
    return {r["hilist_code"]: item_from_row(r) for r in rows}


def size_city(params: CityParams, persons: Sequence[Person]) -> float:
    """Visit-rate scale so that the city makes about `params.settlements` settlements."""
    if not params.settlements:
        return 1.0
    expected = sum(expected_visits(p, params.start) for p in persons) * params.days / 365
    return params.settlements / expected if expected else 1.0


def persons_for(params: CityParams) -> Iterator[Person]:
    factory = PersonFactory(params)
    for i in range(params.persons):
        yield factory.make(i)


@young_collections_only
def bulk_load(
    engine: Engine,
    params: CityParams,
    *,
    data_dir: Path | None = None,
    replica: ReplicaStore | None = None,
    persons: Sequence[Person] | None = None,
    institutions: Sequence[Institution] | None = None,
    settle_until: datetime | None = None,
    workers: int | None = None,
    progress: Progress = lambda _stage, _done, _total: None,
    labels_out: list[Label] | None = None,
) -> BulkReport:
    """Load the city (institutions, persons, a year of settled visits) into the row store,
    and into `replica` when given (it must already reflect the whole change log: see
    `prepare_replica`). Without a replica the reserved seq makes the next replica opened on
    this store rebuild itself from the tables.

    `persons` / `institutions` replace the city's own (the demo's showcase persons);
    `settle_until` leaves visits that would settle after it unsettled and unwritten (stays
    still going on, for a history that ends now)."""
    report = BulkReport()
    t0 = time.perf_counter()
    now = local_naive_now()
    ids = IdGenerator(31)
    institutions = list(institutions or make_institutions(params))
    progress("persons", 0, params.persons)
    persons = list(persons) if persons is not None else list(persons_for(params))
    report.phases["generate_persons"] = time.perf_counter() - t0
    scale = size_city(params, persons)
    book = load_book([data_dir] if data_dir else [])
    sqlite = engine.dialect.name == "sqlite"
    feed = _ReplicaFeed(replica)
    inst_payloads: list[dict[str, Any]] = []
    psn_payloads: list[dict[str, Any]] = []

    with engine.begin() as conn:
        fresh = conn.execute(select(setl.c.setl_id).limit(1)).first() is None
        # the hole in the log that stands for this load (module docstring)
        report.reserved_seq = changelog.allocate(conn, 1)
        ensure_sim_catalog(conn, ids=ids, now=now)
        write_institutions(conn, institutions, seed=params.seed, now=now, payloads=inst_payloads)
        catalog = load_catalog_terms(conn)
    report.persons, report.institutions = len(persons), len(institutions)

    def write_all_persons(conn: Connection) -> None:
        """The persons, in a transaction of their own before any chunk's rows (whose keys
        name them), while the workers already settle the first chunks."""
        t1 = time.perf_counter()
        with conn.begin():
            for i in range(0, len(persons), 20_000):
                write_persons(conn, persons[i : i + 20_000], now=now, payloads=psn_payloads)
                progress("persons", min(i + 20_000, len(persons)), len(persons))
        feed.add(
            replica_rows.FIXMEDINS, batches.from_payloads(replica_rows.FIXMEDINS, inst_payloads)
        )
        feed.add(replica_rows.PSN, batches.from_payloads(replica_rows.PSN, psn_payloads))
        feed.flush()
        inst_payloads.clear()
        psn_payloads.clear()
        report.phases["write_persons"] = time.perf_counter() - t1

    ctx = CityContext(params, institutions, scale=scale)
    size = chunk_size(len(persons))
    chunks = [(k, persons[i : i + size]) for k, i in enumerate(range(0, len(persons), size))]
    insutype = {p.psn_no: p.insutype for p in persons}
    labels: list[Label] = institution_labels(institutions)
    target = params.settlements or 0
    n_workers = workers or max(1, os.cpu_count() or 1)
    t2 = time.perf_counter()
    marker: Path | None = None
    with engine.connect() as conn:
        cache_before = None
        if sqlite:
            # the indexes of a city-sized store outgrow SQLite's default 2 MB page cache long
            # before the load ends; this connection is the only writer and lives for the load
            # (the pool keeps it after: it gets its own cache size back at the end)
            raw_conn = conn.connection.driver_connection
            (cache_before,) = raw_conn.execute("PRAGMA cache_size").fetchone()
            raw_conn.execute(f"PRAGMA cache_size=-{bulk_cache_kib()}")
        if sqlite and fresh:
            # a fresh store is thrown away if the load stops midway, so the load does not pay
            # for durability or for per-row foreign-key lookups; the rows' keys come from the
            # rows this load wrote (tests run `PRAGMA foreign_key_check` after a load)
            conn.connection.driver_connection.execute("PRAGMA synchronous=OFF")
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            marker = _journal_in_memory(conn.connection.driver_connection, engine.url.database)
            report.synchronous = "OFF (fresh store, bulk load only)" + (
                ", journal in memory" if marker else ""
            )
        else:
            report.synchronous = "configured mode (store not fresh)"
        writer = _Writer(conn, now)
        finals: dict[str, tuple[Decimal, dict[tuple[int, str], Decimal]]] = {}
        pending = 0
        # SQLite: chunks come spooled and each is merged in a transaction of its own;
        # otherwise rows come pickled and are inserted in transactions of COMMIT_EVERY
        spool = _spool_dir(engine) if sqlite else None
        tx = None
        ctx_mp = mp.get_context("fork")
        # the city made so far moves out of the young generation before the fork, so that no
        # worker's young pass walks (and copies on write) the persons it inherits
        gc.collect(0)
        try:
            with ctx_mp.Pool(
                n_workers,
                initializer=_init_worker,
                initargs=(ctx, book, catalog, now, settle_until, spool, chunks),
            ) as pool:
                # the writer holds up to MERGE_GROUP − 1 chunks before it merges them: the
                # workers go on meanwhile
                results = _InOrder(pool, len(chunks), 2 * n_workers + MERGE_GROUP)
                results.start(head_start(len(chunks)))
                write_all_persons(conn)
                tx = None if spool is not None else conn.begin()
                for _chunk, rows, chunk_labels, n_visits in results:
                    writer.write(rows, last=results.all_dispatched)
                    for entity, table in rows.replica.items():
                        feed.add(entity, table)
                    finals.update(rows.persons)
                    labels.extend(chunk_labels)
                    report.visits += n_visits
                    report.settlements += rows.settlements
                    report.reversals += rows.reversals
                    report.refused += rows.refused
                    report.unsettled += rows.unsettled
                    report.fee_lines += rows.lines
                    if len(report.refusals) < 5:
                        report.refusals.extend(rows.refusals[: 5 - len(report.refusals)])
                    pending += rows.settlements
                    if pending >= COMMIT_EVERY:
                        writer.flush()
                        if tx is not None:
                            tx.commit()
                            tx = conn.begin()
                        feed.flush()  # after the rows' commit: never ahead of the row store
                        pending = 0
                    progress("settlements", report.settlements, target or report.settlements)
                    gc.collect(0)
                writer.flush()  # the last chunks' spools
        except BaseException:
            if cache_before is not None:
                conn.connection.driver_connection.execute(f"PRAGMA cache_size={int(cache_before)}")
            if marker is not None and tx is None:
                # every merge either committed or rolled back: the store is whole, if not the
                # whole city, and goes back to its WAL journal (a kill leaves the marker, and
                # so does a failure to switch back)
                with contextlib.suppress(sqlite3.Error, RuntimeError):
                    _journal_back_to_wal(conn.connection.driver_connection, marker)
            raise
        finally:
            if spool is not None:
                shutil.rmtree(spool, ignore_errors=True)
        t_final = time.perf_counter()
        if tx is None:
            tx = conn.begin()
        if finals:  # spooled chunks brought their persons' final rows with them
            _final_person_rows(conn, finals, insutype, now)
        tx.commit()
        feed.flush()
        report.phases["final_person_rows"] = time.perf_counter() - t_final
        if sqlite and fresh:
            raw = conn.connection.driver_connection
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.execute("PRAGMA synchronous=FULL")
            raw.execute("PRAGMA foreign_keys=ON")
            if marker is not None:
                _journal_back_to_wal(raw, marker)
        if cache_before is not None:  # frees the pages: the replica's clustering comes next
            conn.connection.driver_connection.execute(f"PRAGMA cache_size={int(cache_before)}")
    report.phases["settle_and_write"] = time.perf_counter() - t2
    if replica is not None:
        t3 = time.perf_counter()
        progress("replica rollups", 0, 1)
        # the slices were appended as each commit came, each spanning the whole period:
        # one rewrite in date order lets a day's query read a row group or two. The workers
        # are done, so DuckDB gets every core and a quarter of the memory for it
        with replica.widened(os.cpu_count() or 1, _quarter_of_memory(replica.memory_limit)):
            replica.cluster_facts()
            replica.refresh_rollups()
        replica.set_applied(report.reserved_seq, int(time.time() * 1000), source="bulk")
        replica.checkpoint()
        progress("replica rollups", 1, 1)
        report.phases["replica_rollups"] = time.perf_counter() - t3
    report.labels = len(labels)
    if labels_out is not None:
        labels_out.extend(labels)
    report.seconds = time.perf_counter() - t0
    if sqlite and engine.url.database:
        db = Path(engine.url.database)
        report.disk_bytes = sum(
            q.stat().st_size for q in (db, db.with_name(db.name + "-wal")) if q.exists()
        )
    if replica is not None:
        report.replica_bytes = sum(
            q.stat().st_size for q in (replica.path, Path(str(replica.path) + ".wal")) if q.exists()
        )
    return report


def count_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (setl, fee_detail, psn_insu, psn_accum)
        }
