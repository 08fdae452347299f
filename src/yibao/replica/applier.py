"""The applier: one thread that tails the change log into the DuckDB replica.

Each step reads the changes after `applied_seq` (up to `batch_rows`) on the replica's own
row-store connection, turns them into Arrow tables (`replica.batches`) and applies them with
the new `applied_seq` in **one DuckDB transaction** (`ReplicaStore.apply`). A crash between
two steps loses nothing and applies nothing twice: on restart the applier reads
`applied_seq` from the file and continues after it.

The writer wakes the applier after every commit (`writer.on_commit`); otherwise it polls
every `poll_ms`. Strong reads call `wait_for(target)`, which wakes the thread and waits — or,
when no thread runs (commands, tests), applies the missing changes in the caller's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from yibao.obs import metrics
from yibao.replica import batches
from yibao.replica.store import ReplicaStore
from yibao.storage import faults
from yibao.storage.changelog import read_after
from yibao.storage.tables import change_log, seq_counter

log = logging.getLogger(__name__)

#: called after each applied batch: (applied_seq, last change ts_ms, applied_at_ms)
AppliedListener = Callable[[int, int, int], None]


class ReplicaGap(RuntimeError):
    """The change log no longer holds the changes after `applied_seq` (trimmed, or the
    rows were loaded without it): the replica must be rebuilt from the row-store tables."""

    def __init__(self, applied: int, next_seq: int | None) -> None:
        self.applied = applied
        self.next_seq = next_seq
        super().__init__(
            f"变更日志缺失 seq {applied + 1}… (change log gap after seq {applied}; next "
            f"{next_seq}): rebuild the replica from the tables (`yibao replica rebuild`)"
        )


class ReplicaTimeout(TimeoutError):
    pass


@dataclass
class ApplierStats:
    batches: int = 0
    changes: int = 0
    last_batch_rows: int = 0
    last_batch_ms: float = 0.0
    errors: int = 0
    last_error: str | None = None


def log_bounds(engine: Engine) -> tuple[int, int, int]:
    """(min seq, max seq, counter) of the change log; zeros when empty."""
    with engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(change_log.c.seq), func.max(change_log.c.seq))).one()
        counter = conn.execute(
            select(seq_counter.c.last_value).where(seq_counter.c.name == "change_log")
        ).scalar_one_or_none()
        conn.rollback()
    return int(lo or 0), int(hi or 0), int(counter or 0)


class Applier:
    def __init__(
        self,
        store: ReplicaStore,
        source: Engine,
        *,
        poll_ms: int = 50,
        batch_rows: int = 5000,
        batch_window_ms: int = 0,
    ) -> None:
        self.store = store
        self.source = source
        self.poll_s = max(1, poll_ms) / 1000
        #: the background loop starts a batch at most this often. A DuckDB transaction costs
        #: tens of milliseconds whatever its size, so under load a window lets many commits
        #: share one batch instead of the applier waking for every group commit and taking
        #: the settlement path's CPU. Strong reads do not wait for it: they force a catch-up.
        self.batch_window_s = max(0, batch_window_ms) / 1000
        self.batch_rows = batch_rows
        self.stats = ApplierStats()
        #: the background loop's clock (a test drives `cycle` with a fake one)
        self.clock: Callable[[], float] = time.monotonic
        #: when the loop last started a batch (its clock), None before the first
        self._last_batch_at: float | None = None
        #: set by a commit (there may be changes to apply)
        self._wake = threading.Event()
        #: set by a strong read or `stop`: cut the rest of the window short
        self._force = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._applied = threading.Condition()
        self._listeners: list[AppliedListener] = []
        #: set while the applier must not run (a rebuild swaps the file)
        self.paused = threading.Event()
        #: the error that stopped progress (e.g. a gap), cleared by a successful step
        self.blocked: BaseException | None = None
        self.on_gap: Callable[[ReplicaGap], None] | None = None

    # -- progress --------------------------------------------------------------------------

    @property
    def applied_seq(self) -> int:
        return self.store.applied_seq

    def on_applied(self, listener: AppliedListener) -> None:
        self._listeners.append(listener)

    def step(self, limit: int | None = None) -> int:
        """Apply at most one batch; returns the changes applied (0 when caught up)."""
        with self.store.write_lock:
            applied = self.store.applied_seq
            with self.source.connect() as conn:
                rows = read_after(conn, applied, limit or self.batch_rows)
                conn.rollback()
            if not rows:
                return 0
            if int(rows[0]["seq"]) != applied + 1:
                raise ReplicaGap(applied, int(rows[0]["seq"]))
            started = time.perf_counter()
            batch = batches.build(rows)
            meta = self.store.apply(batch)
        elapsed = (time.perf_counter() - started) * 1000
        self.stats.batches += 1
        self.stats.changes += batch.changes
        self.stats.last_batch_rows = batch.changes
        self.stats.last_batch_ms = elapsed
        metrics.replica_batch(batch.changes, elapsed / 1000)
        metrics.REPLICA_APPLIED_SEQ.set(meta.applied_seq)
        self.blocked = None
        with self._applied:
            self._applied.notify_all()
        for listener in self._listeners:
            try:
                listener(meta.applied_seq, meta.applied_ts_ms, meta.applied_at_ms)
            except Exception:
                log.exception("applied listener failed")
        return batch.changes

    def check_continuity(self) -> None:
        """Raise `ReplicaGap` when the log cannot carry the replica on from `applied_seq`: seqs
        after it were allocated but the next change is not there (a bulk load's reserved seq,
        `simulate.bulk`, or a trimmed log). `step` only sees a gap when a later row exists;
        this also catches a hole at the very end of the log."""
        applied = self.store.applied_seq
        lo, hi, counter = log_bounds(self.source)
        if max(hi, counter) <= applied:
            return
        with self.source.connect() as conn:
            found = conn.execute(
                select(change_log.c.seq).where(change_log.c.seq == applied + 1)
            ).first()
            conn.rollback()
        if found is None:
            raise ReplicaGap(applied, lo or None)

    def catch_up(self, until: int | None = None) -> int:
        """Apply batches until the log is exhausted (or `until` is applied); returns seq."""
        while until is None or self.store.applied_seq < until:
            if self.step() == 0:
                break
        return self.store.applied_seq

    # -- the thread ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="yibao-replica", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._force.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Called by the writer after each commit (cheap: sets an event). It does not cut the
        batch window short: the changes wait for the window's next batch."""
        self._wake.set()

    def force(self) -> None:
        """End the batch window now: a strong read waits (`wait_for` calls this)."""
        self._force.set()
        self._wake.set()

    def cycle(self) -> float | None:
        """One decision of the background loop, after a wake-up or a poll: apply one batch
        when the window allows it. Returns how long to wait before deciding again (0: at
        once — the batch was full, so a backlog drains without waiting), or None when there
        was nothing to apply (wait for the next commit or poll).

        One batch per window, under any load: a batch starts at most every `batch_window_s`
        (its fixed cost is paid once a window, however many commits arrive in it), except
        when a strong read forces a catch-up (`_force`). Without a window every wake-up
        applies."""
        now = self.clock()
        if (
            not self._force.is_set()
            and self._last_batch_at is not None
            and now - self._last_batch_at < self.batch_window_s
        ):
            return self.batch_window_s - (now - self._last_batch_at)
        self._force.clear()
        self._wake.clear()
        applied = self.step()
        if applied == 0:
            return None
        if applied >= self.batch_rows:
            self._last_batch_at = None  # a backlog: the next batch at once, window or not
            return 0.0
        self._last_batch_at = now
        # the batch took every change there was when it read the log: caught up as of then
        metrics.replica_position(self.store.applied_seq, 0, 0)
        # the window runs from this batch's start: the next may start that long after it began
        return max(0.0, self.batch_window_s - (self.clock() - now))

    def _loop(self) -> None:
        backoff = self.poll_s
        while not self._stop.is_set():
            self._wake.wait(self.poll_s)
            if self._stop.is_set() or self.paused.is_set():
                self._wake.clear()
                continue
            try:
                rest = self.cycle()
                if rest != 0 and not self.paused.is_set():  # caught up with the log it read
                    metrics.replica_position(self.store.applied_seq, 0, 0)
                faults.recovered("replica applier")
                backoff = self.poll_s
                if rest == 0:
                    self._wake.set()  # decide again at once
                elif rest is not None:
                    # the window: commits in it wait for its end; a strong read or stop ends it
                    self._force.wait(rest)
            except ReplicaGap as gap:
                self._fail(gap)
                if self.on_gap is not None:
                    self.on_gap(gap)
                self._stop.wait(1.0)
            except Exception as exc:  # keep tailing: the next poll retries the same batch
                self._fail(exc)
                if faults.unavailable(exc) is not None:
                    # the row store is down or frozen: one line per interval, no traceback
                    faults.report("replica applier", exc)
                else:
                    log.exception("replica applier step failed; retrying")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _fail(self, exc: BaseException) -> None:
        self.blocked = exc
        self.stats.errors += 1
        self.stats.last_error = str(exc)
        with self._applied:
            self._applied.notify_all()

    # -- strong reads ----------------------------------------------------------------------

    def wait_for(self, target: int, timeout: float = 30.0) -> int:
        """Return once `applied_seq >= target` (forcing a catch-up); ReplicaTimeout otherwise."""
        if self.store.applied_seq >= target:
            return self.store.applied_seq
        if not self.running:
            if self.paused.is_set():
                raise ReplicaTimeout("副本正在重建 (the replica is being rebuilt; retry shortly)")
            return self.catch_up(until=target)
        deadline = time.monotonic() + timeout
        self.force()  # a strong read never waits for the batch window
        with self._applied:
            while self.store.applied_seq < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ReplicaTimeout(
                        f"副本未能在 {timeout:.0f}s 内追上 seq {target} "
                        f"(replica at {self.store.applied_seq}; {self.stats.last_error or 'busy'})"
                    )
                self._applied.wait(min(left, 0.5))
                self.force()
        return self.store.applied_seq
