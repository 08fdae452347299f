"""Bulk load: a whole city straight into the row store and the replica, through the same
policy calculator, catalog terms, restriction check and accumulator keys as live settlement,
with the same replica payloads (`yibao.replica.rows`), so that `yibao replica verify` and every
identity hold afterwards.

Shape of the work: the main process generates institutions and persons (ID numbers must be
unique city-wide) and is the single writer; a pool of worker processes (one per core) turns
chunks of persons into a year of visits and settles them in order person by person. A worker
spools the chunk's row-store rows into a small SQLite file (`yibao.simulate.spool`) and
returns Arrow tables of replica payloads; the writer (`yibao.simulate.bulk_writer`) copies
the spools into the row store with `INSERT … SELECT` (eight chunks a transaction,
`spool.MERGE_GROUP`) and appends the Arrow tables to the DuckDB replica. The workers start on
the first chunks while the writer writes the persons (a head start, `head_start`), so that no
core idles meanwhile; no chunk's rows go in before the persons they name. On a MySQL-protocol
store the rows come back pickled and go in with executemany.

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
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import islice
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any

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
from yibao.simulate.bulk_writer import (
    ChunkWriter,
    ReplicaFeed,
    bulk_cache_kib,
    final_person_rows,
    journal_back_to_wal,
    journal_in_memory,
    spool_dir,
)
from yibao.simulate.catalog_seed import ensure_sim_catalog
from yibao.simulate.chunk_rows import ChunkRows
from yibao.simulate.clinical import BUILTIN_ITEMS
from yibao.simulate.context import CityContext
from yibao.simulate.model import CityParams, Institution, Label, Person
from yibao.simulate.people import PersonFactory, make_institutions
from yibao.simulate.rates import expected_visits
from yibao.simulate.settle_rows import Settler
from yibao.simulate.spool import MERGE_GROUP, write_spool
from yibao.simulate.store import write_institutions, write_persons
from yibao.simulate.visits import build_chunk, institution_labels
from yibao.storage import changelog
from yibao.storage.tables import (
    catalog_item,
    fee_detail,
    psn_accum,
    psn_insu,
    setl,
)

PERSONS_PER_CHUNK = 2000
#: settlements per row-store transaction on a MySQL-protocol store; about as often the replica
#: gets the rows committed so far (spooled chunks: at the next group's commit)
COMMIT_EVERY = 200_000


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
    # the workers were terminated after an error (Pool.terminate joins that thread, so a
    # load whose workers failed could hang instead of raising).
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


#: what a worker hands back: (its chunk, the rows, the labels, the visits settled)
_Result = tuple[int, ChunkRows, list[Label], int]


def _work(k: int) -> _Result:
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


def _quarter_of_memory(configured: str) -> str:
    """A quarter of the machine's memory as a DuckDB memory limit, or the configured limit
    where the machine's size is not known."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return configured
    return f"{max(1, total // 4 // 2**20)}MB"


class _InOrder:
    """The chunks' results in order, with at most `window` chunks in flight: `Pool.imap`
    queues every task at once and buffers every finished result, so workers that outrun the
    writer would pile a city's rows up in memory. `start(extra)` lets the first `window +
    extra` go at once: the workers' head start while the writer is busy with the persons."""

    def __init__(self, pool: Pool, chunks: int, window: int):
        self.pool = pool
        self.chunks = chunks
        self.tasks = iter(range(chunks))
        self.window = window
        self.inflight: deque[AsyncResult[_Result]] = deque()
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

    def __iter__(self) -> Iterator[_Result]:
        self.start()
        while self.inflight:
            result = self.inflight.popleft().get()
            self._fill(self.window)
            yield result


def head_start(chunks: int) -> int:
    """Chunks the workers may settle ahead while the writer writes the persons: about what two
    workers finish meanwhile (writing a chunk's persons is quick next to settling the
    chunk), at most 32 (each waits with its Arrow tables in
    memory and its spool on disk)."""
    return min(32, chunks // 16)


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
    feed = ReplicaFeed(replica)
    inst_payloads: list[dict[str, Any]] = []
    psn_payloads: list[dict[str, Any]] = []

    with engine.begin() as conn:
        fresh = conn.execute(select(setl.c.setl_id).limit(1)).first() is None
        # the hole in the log that stands for this load (module docstring)
        report.reserved_seq = changelog.reserve(conn, 1)
        ensure_sim_catalog(conn, ids=ids, now=now)
        write_institutions(
            conn,
            institutions,
            seed=params.seed,
            now=now,
            payloads=inst_payloads,
            data_dir=data_dir,
        )
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
        raw_conn: Any = conn.connection.driver_connection
        if sqlite:
            # the indexes of a city-sized store outgrow SQLite's default 2 MB page cache long
            # before the load ends; this connection is the only writer and lives for the load
            # (the pool keeps it after: it gets its own cache size back at the end)
            (cache_before,) = raw_conn.execute("PRAGMA cache_size").fetchone()
            raw_conn.execute(f"PRAGMA cache_size=-{bulk_cache_kib()}")
        if sqlite and fresh:
            # a fresh store is thrown away if the load stops midway, so the load does not pay
            # for durability or for per-row foreign-key lookups; the rows' keys come from the
            # rows this load wrote (tests run `PRAGMA foreign_key_check` after a load)
            raw_conn.execute("PRAGMA synchronous=OFF")
            raw_conn.execute("PRAGMA foreign_keys=OFF")
            marker = journal_in_memory(raw_conn, engine.url.database)
            report.synchronous = "OFF (fresh store, bulk load only)" + (
                ", journal in memory" if marker else ""
            )
        else:
            report.synchronous = "configured mode (store not fresh)"
        writer = ChunkWriter(conn, now)
        finals: dict[str, tuple[Decimal, dict[tuple[int, str], Decimal]]] = {}
        pending = 0
        # SQLite: chunks come spooled and each is merged in a transaction of its own;
        # otherwise rows come pickled and are inserted in transactions of COMMIT_EVERY
        spool = spool_dir(engine) if sqlite else None
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
                    # spooled chunks are committed when their group is merged: the replica
                    # waits for the next group's commit rather than cut a group short
                    if pending >= COMMIT_EVERY and not writer.held:
                        if tx is not None:
                            tx.commit()
                            tx = conn.begin()
                        feed.flush()  # after the rows' commit: never ahead of the row store
                        pending = 0
                    progress("settlements", report.settlements, target or report.settlements)
                    gc.collect(0)
                writer.flush()  # the last chunks' spools
        except BaseException:
            if cache_before is not None:  # never in the way of the error being raised
                with contextlib.suppress(sqlite3.Error):
                    raw_conn.execute(f"PRAGMA cache_size={int(cache_before)}")
            if marker is not None and tx is None:
                # every merge either committed or rolled back: the store is whole, if not the
                # whole city, and goes back to its WAL journal (a kill leaves the marker, and
                # so does a failure to switch back)
                with contextlib.suppress(sqlite3.Error, RuntimeError):
                    journal_back_to_wal(raw_conn, marker)
            raise
        finally:
            if spool is not None:
                shutil.rmtree(spool, ignore_errors=True)
        t_final = time.perf_counter()
        if tx is None:
            tx = conn.begin()
        if finals:  # spooled chunks brought their persons' final rows with them
            final_person_rows(conn, finals, insutype, now)
        tx.commit()
        feed.flush()
        report.phases["final_person_rows"] = time.perf_counter() - t_final
        if sqlite and fresh:
            raw_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw_conn.execute("PRAGMA synchronous=FULL")
            raw_conn.execute("PRAGMA foreign_keys=ON")
            if marker is not None:
                journal_back_to_wal(raw_conn, marker)
        if cache_before is not None:  # frees the pages: the replica's clustering comes next
            raw_conn.execute(f"PRAGMA cache_size={int(cache_before)}")
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
