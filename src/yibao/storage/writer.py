"""The write path.

On SQLite there is one writer: a thread that takes every pending write job and commits them in
**one durable transaction** (group commit), each job inside its own savepoint, so that a job
that fails rolls back alone while its neighbours commit. One fsync then carries many calls,
and writers never queue on SQLite's lock (design.md §4; the comparison with per-request
commits is in docs/measurements.md).

On a MySQL-protocol store (MariaDB, TiDB) the server can take many writers: each job runs in
its own transaction on a worker thread, retried whole on transient errors (`uow.run_transaction`).

A job is a function `fn(conn) -> result` that does all its reads and writes on `conn` and never
commits. Results (or the job's exception) come back through a future.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import Connection, Engine, event

from yibao.kit.workers import Workers
from yibao.obs import metrics
from yibao.storage import changelog, faults, row_cache
from yibao.storage.uow import run_transaction

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[Connection], Any]
#: where a job's answer goes: a concurrent future, or an asyncio future awaited on its loop
_Slot: TypeAlias = "concurrent.futures.Future[Any] | _Awaited"
#: what the writer thread takes off its queue: a job, its slot and whether it only reads, or
#: None to stop
_Item: TypeAlias = "tuple[Job, _Slot, bool] | None"
_SAVEPOINT = "SAVEPOINT yibao_job"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT yibao_job"
_RELEASE = "RELEASE SAVEPOINT yibao_job"


class Writer:
    """Serialises (SQLite) or parallelises (MySQL protocol) write jobs; see module doc."""

    def __init__(
        self, engine: Engine, *, group_commit: bool, batch_max: int = 256, workers: int = 8
    ) -> None:
        self._engine = engine
        self._group_commit = group_commit
        self._batch_max = max(1, batch_max)
        # a queue in C: no Python-level lock and condition around every put and get
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pool: Workers | None = None
        self._workers = workers
        self._on_commit: list[Callable[[], None]] = []
        #: rows the writer read, for the next calls of a flow (group commit only)
        self.row_cache = row_cache.RowCache()
        self._lock = threading.Lock()
        if group_commit and not event.contains(
            engine, "rollback_savepoint", changelog.forget_window
        ):
            # a job's own `begin_nested()` rolled back frees the seqs it took from the window
            event.listen(engine, "rollback_savepoint", changelog.forget_window)
        # a write evicts what the connection's cache holds: the writer's across its groups on
        # SQLite, a job's own on the MySQL protocol (`row_cache.for_transaction`)
        row_cache.watch(engine)
        #: counters for /health and the benchmarks
        self.commits = 0
        self.jobs = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._group_commit:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._loop, name="yibao-writer", daemon=True
                    )
                    self._thread.start()
            elif self._pool is None:
                self._pool = Workers(self._workers, "yibao-write")

    def stop(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout=30)
                self._thread = None
            if self._pool is not None:
                self._pool.close(wait=True)  # the jobs queued so far still run
                self._pool = None

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback()` (from the writer thread) after every commit."""
        self._on_commit.append(callback)

    # -- submitting ------------------------------------------------------------------------

    def submit(self, fn: Callable[[Connection], T]) -> concurrent.futures.Future[T]:
        self.start()
        if self._group_commit:
            fut: concurrent.futures.Future[T] = concurrent.futures.Future()
            self._queue.put((fn, fut, False))
            return fut
        assert self._pool is not None
        return self._pool.submit(self._run_alone, fn)

    def run_sync(self, fn: Callable[[Connection], T]) -> T:
        """Submit and wait (for commands and tests)."""
        return self.submit(fn).result()

    async def run(self, fn: Callable[[Connection], T]) -> T:
        """Submit and await (for async endpoints). Under group commit the writer answers the
        awaiting loop once per batch (one thread-safe wake-up resolves every future of the
        batch) instead of chaining a concurrent future per job."""
        if not self._group_commit:
            pool = self._pool
            if pool is None:
                self.start()
                pool = self._pool
                assert pool is not None
            return await pool.run(self._run_alone, fn)
        if self._thread is None:  # the lock only to start it
            self.start()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, _Awaited(loop, fut), False))
        return await fut

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run a read-only `fn(conn)` on the writer's own connection (group commit only): at
        the start of the writer's next transaction, before any job of it writes, so it sees
        exactly what is committed; answered at once, not at the commit."""
        assert self._group_commit, "reads on the writer: group commit (SQLite) only"
        if self._thread is None:
            self.start()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, _Awaited(loop, fut), True))
        return await fut

    # -- internals -------------------------------------------------------------------------

    def _run_alone(self, fn: Callable[[Connection], T]) -> T:
        started = time.perf_counter()
        result = run_transaction(self._engine, functools.partial(_with_row_cache, fn))
        metrics.commit_batch(1, time.perf_counter() - started)
        self.jobs += 1
        self.commits += 1
        self._notify()
        return result

    def _notify(self) -> None:
        for callback in self._on_commit:
            try:
                callback()
            except Exception:  # a listener must never break the write path
                log.exception("on_commit listener failed")

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._batch_max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._commit_batch(batch)

    def _commit_batch(self, items: list[tuple[Job, _Slot, bool]]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        reads = [(fn, slot) for fn, slot, read in items if read]
        batch = [(fn, slot) for fn, slot, read in items if not read]
        started = time.perf_counter()
        try:
            with (
                self._engine.connect() as conn,
                conn.begin(),
                # outside the seq window, which writes its counter as it closes
                row_cache.installed(conn, self.row_cache) as cache,
                # the change log's seqs from memory: this transaction holds the write lock
                # from BEGIN IMMEDIATE to commit (storage.changelog, module doc)
                changelog.seq_window(conn) as seqs,
            ):
                if reads:  # before any write of the transaction: exactly what is committed
                    answered, reads = _run_reads(conn, reads), []
                    _answer(answered)
                    if not batch:
                        return
                # Savepoints issued on the driver's cursor: a `begin_nested()` object per job
                # cost more Python than the job's own statements (SQLite: SAVEPOINT and
                # RELEASE are no-ops for the file; only ROLLBACK TO undoes work).
                raw = conn.connection.dbapi_connection
                assert raw is not None  # None only on a connection that was invalidated
                cursor = raw.cursor()
                try:
                    for fn, _fut in batch:
                        cursor.execute(_SAVEPOINT)
                        try:
                            result = fn(conn)
                        except BaseException as exc:
                            if not raw.in_transaction:
                                # SQLite rolled the whole transaction back itself (disk full,
                                # I/O error: sqlite.org/lang_transaction.html, "Response To
                                # Errors Within A Transaction"): no savepoint is left, nothing
                                # of the batch is written, and every job gets this error.
                                raise
                            cursor.execute(_ROLLBACK_TO)
                            cursor.execute(_RELEASE)
                            seqs.forget()  # the job's seqs were never written
                            cache.clear()  # it may hold rows the job wrote, now undone
                            outcomes.append((False, exc))
                        else:
                            cursor.execute(_RELEASE)
                            outcomes.append((True, result))
                finally:
                    cursor.close()
        except BaseException as exc:
            self.row_cache.clear()  # rows read after writes that were never committed
            if faults.unavailable(exc) is not None:  # down or full: one line per interval
                faults.report("group commit", exc)
                metrics.store_unavailable("commit")
            else:
                log.exception("group commit failed")
            # reads not yet answered (the transaction could not begin) get the error too
            _answer([(fut, False, exc) for _fn, fut in [*reads, *batch]])
            return
        metrics.commit_batch(len(batch), time.perf_counter() - started)
        self.commits += 1
        self.jobs += len(batch)
        self._notify()
        _answer([(fut, ok, value) for (_fn, fut), (ok, value) in zip(batch, outcomes, strict=True)])


def _with_row_cache(fn: Callable[[Connection], T], conn: Connection) -> T:
    """A job of the MySQL protocol's writer, with a row cache for its transaction (the rows a
    settlement reads are fetched in one request: `row_cache.prefetch`)."""
    with row_cache.for_transaction(conn):
        return fn(conn)


def _run_reads(conn: Connection, reads: list[tuple[Job, _Slot]]) -> list[tuple[_Slot, bool, Any]]:
    """Each read's outcome (`Writer.read`), a failing one beside the others."""
    results: list[tuple[_Slot, bool, Any]] = []
    for fn, slot in reads:
        try:
            results.append((slot, True, fn(conn)))
        except BaseException as exc:  # as a job's: its caller gets it, the writer goes on
            results.append((slot, False, exc))
    return results


class _Awaited:
    """A job's answer slot awaited on an event loop (see `Writer.run`)."""

    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        self.loop = loop
        self.future = future


def _answer(results: list[tuple[_Slot, bool, Any]]) -> None:
    """Hand each job its outcome: concurrent futures directly, awaited ones in one call per
    event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
    for slot, ok, value in results:
        if isinstance(slot, _Awaited):
            by_loop.setdefault(slot.loop, []).append((slot.future, ok, value))
        elif not slot.done():
            if ok:
                slot.set_result(value)
            else:
                slot.set_exception(value)
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody awaits these any more
            loop.call_soon_threadsafe(_settle, items)


def _settle(items: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for fut, ok, value in items:
        if fut.done():  # cancelled while the job ran
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)
