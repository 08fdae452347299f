"""The replica of one serving process: store + applier + strong and bounded reads.

    replica = Replica.open(settings)        # opens (or creates) <data_dir>/replica.duckdb
    replica.start(writer=db.writer)         # applier thread, woken after every commit
    with replica.read("strong") as view:    # learner read: waits until applied ≥ latest seq
        view.cursor.execute(sql).fetchall(); view.seq; view.lag_rows; view.lag_ms

A **strong** read takes the row store's latest `seq` when it starts and waits until the
replica has applied it, so it sees every change committed before it was asked. A
**bounded** read (`max_lag_ms`) skips the wait while the replica's lag is inside the bound.
The latest `seq` is read on the replica's own small row-store pool, never on the OLTP
connections.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, func, select

from yibao.config import Settings
from yibao.errors import YibaoError
from yibao.replica import heartbeat
from yibao.replica import rebuild as rebuild_mod
from yibao.replica.applier import Applier, ReplicaGap, ReplicaTimeout
from yibao.replica.export import ExportReport, check_request, export_table
from yibao.replica.lock import OwnerLock
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.store import ReplicaStore
from yibao.storage.engine import make_engine
from yibao.storage.tables import change_log
from yibao.storage.writer import Writer

log = logging.getLogger(__name__)

STRONG = "strong"
BOUNDED = "bounded"


class ReplicaUnavailable(YibaoError):
    status_code = 503
    code = "replica_unavailable"


@dataclass(frozen=True)
class Lag:
    latest_seq: int
    applied_seq: int
    rows: int
    #: ms since the oldest change not yet applied was committed (0 when caught up)
    ms: int


@dataclass
class ReadView:
    cursor: duckdb.DuckDBPyConnection
    #: the change-log position this snapshot reflects
    seq: int
    lag_rows: int
    lag_ms: int
    consistency: str

    def envelope(self, data: Any) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "lag_rows": self.lag_rows,
            "lag_ms": self.lag_ms,
            "consistency": self.consistency,
            "data": data,
        }


@dataclass
class RebuildState:
    running: bool = False
    phase: str = ""
    done: int = 0
    total: int = 0
    source: str = ""
    error: str | None = None
    finished_at_ms: int = 0
    applied_seq: int = 0


def source_engine(settings: Settings) -> Engine:
    """The replica's own small pool on the row store (never the OLTP connections)."""
    return make_engine(
        settings.db_url,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        writer=False,
        pool_size=2,
        pool_name="replica",
        mysql_driver=settings.mysql_driver,
    )


class Replica:
    def __init__(self, settings: Settings, store: ReplicaStore, source: Engine) -> None:
        self.settings = settings
        self.store = store
        self.source = source
        self.applier = Applier(
            store,
            source,
            poll_ms=settings.replica_poll_ms,
            batch_window_ms=settings.replica_batch_window_ms,
        )
        self.applier.on_gap = self._on_gap
        self.lock: OwnerLock | None = None
        self.rebuild_state = RebuildState()
        self._rebuild_lock = threading.Lock()
        #: tells other processes (readiness) that the applier is alive and where it is
        self._beater = heartbeat.Beater(settings.data_dir, self._beat_state)

    @classmethod
    def open(cls, settings: Settings, *, lock: OwnerLock | None = None) -> Replica:
        source = source_engine(settings)
        settings.replica_path.parent.mkdir(parents=True, exist_ok=True)
        store = ReplicaStore(
            settings.replica_path,
            threads=settings.duckdb_threads,
            memory_limit=settings.duckdb_memory_limit,
            pseudonyms=Pseudonyms.for_dir(settings.data_dir),
        )
        replica = cls(settings, store, source)
        replica.lock = lock
        if not store.schema_current():
            log.warning(
                "replica schema is old or its pseudonym key changed: rebuilding from the row store"
            )
            replica.rebuild()
        else:
            try:
                replica.applier.check_continuity()
            except ReplicaGap as gap:
                log.warning("%s — rebuilding the replica from the row-store tables", gap)
                replica.rebuild(source="tables")
        return replica

    def export_parquet(
        self, *, table: str, out_dir: Path, since: str | None = None, until: str | None = None
    ) -> ExportReport:
        """Write one replica table to Parquet under `out_dir` (`replica.export`), from one
        snapshot taken after the replica has caught up with the row store."""
        check_request(table, since, until)  # refuse before waiting or writing anything
        self.applier.wait_for(self.latest_seq())
        with self.store.snapshot() as (cur, seq):
            return export_table(cur, seq, table=table, out_dir=out_dir, since=since, until=until)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, writer: Writer | None = None) -> None:
        if writer is not None:
            writer.on_commit(self.applier.wake)
        self.applier.start()
        self._beater.start()

    def _beat_state(self) -> tuple[int, bool, str | None]:
        blocked = self.applier.blocked
        return self.store.applied_seq, self.applier.running, str(blocked) if blocked else None

    def close(self) -> None:
        self._beater.stop()
        self.applier.stop()
        self.store.close()
        self.source.dispose()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    # -- position and lag ------------------------------------------------------------------

    def latest_seq(self) -> int:
        with self.source.connect() as conn:
            value = conn.execute(select(func.max(change_log.c.seq))).scalar_one_or_none()
            conn.rollback()
        return int(value or 0)

    def lag(self, latest: int | None = None, applied: int | None = None) -> Lag:
        latest = self.latest_seq() if latest is None else latest
        applied = self.store.applied_seq if applied is None else applied
        rows = max(0, latest - applied)
        ms = 0
        if rows:
            with self.source.connect() as conn:
                ts = conn.execute(
                    select(change_log.c.ts_ms).where(change_log.c.seq == applied + 1)
                ).scalar_one_or_none()
                conn.rollback()
            ms = max(0, int(time.time() * 1000) - int(ts)) if ts is not None else 0
        return Lag(latest, applied, rows, ms)

    # -- reads -----------------------------------------------------------------------------

    @contextmanager
    def read(
        self, consistency: str = STRONG, *, max_lag_ms: int = 1000, timeout_s: float = 30.0
    ) -> Iterator[ReadView]:
        """A snapshot of the replica, strong (default) or within `max_lag_ms` of the log."""
        latest = self.latest_seq()
        if consistency == BOUNDED:
            lag = self.lag(latest)
            if lag.ms > max_lag_ms:
                self._wait(latest, timeout_s)
        elif consistency == STRONG:
            self._wait(latest, timeout_s)
        else:
            raise ValueError(f"consistency must be strong or bounded, not {consistency!r}")
        with self.store.snapshot() as (cur, seq):
            if seq >= latest:
                # every commit made before the read began is in the snapshot: whatever was
                # asked, the answer is strong, and says so
                lag_rows, lag_ms, consistency = 0, 0, STRONG
            else:
                behind = self.lag(latest, seq)
                lag_rows, lag_ms = behind.rows, behind.ms
            yield ReadView(cur, seq, lag_rows, lag_ms, consistency)

    def _wait(self, target: int, timeout_s: float) -> None:
        if self.rebuild_state.running and self.store.applied_seq < target:
            raise ReplicaUnavailable(
                "副本正在重建, 请稍后重试 (the replica is being rebuilt; retry)"
            )
        try:
            self.applier.wait_for(target, timeout_s)
        except ReplicaTimeout as exc:
            raise ReplicaUnavailable(str(exc)) from None
        except ReplicaGap as exc:
            raise ReplicaUnavailable(str(exc)) from None

    # -- status ----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        meta = self.store.meta
        lag = self.lag()
        stats = self.applier.stats
        return {
            "engine": "duckdb",
            "path": str(self.store.path),
            "applied_seq": meta.applied_seq,
            "latest_seq": lag.latest_seq,
            "lag_rows": lag.rows,
            "lag_ms": lag.ms,
            "applied_at_ms": meta.applied_at_ms,
            "source": meta.source,
            "schema_version": meta.schema_version,
            "applier": {
                "running": self.applier.running,
                "batches": stats.batches,
                "changes": stats.changes,
                "last_batch_rows": stats.last_batch_rows,
                "last_batch_ms": round(stats.last_batch_ms, 2),
                "errors": stats.errors,
                "last_error": stats.last_error,
            },
            "rebuild": asdict(self.rebuild_state),
            "threads": self.store.threads,
            "memory_limit": self.store.memory_limit,
        }

    # -- rebuild ---------------------------------------------------------------------------

    def _on_gap(self, gap: ReplicaGap) -> None:
        log.warning("%s — rebuilding the replica from the row-store tables", gap)
        self.rebuild_async(source="tables")

    def rebuild(self, source: str = "auto") -> rebuild_mod.RebuildReport:
        """Rebuild into a new file and swap it in under the readers (blocking)."""
        if not self._rebuild_lock.acquire(blocking=False):
            raise ReplicaUnavailable("副本已在重建中 (a rebuild is already running)")
        state = self.rebuild_state
        state.running, state.error, state.phase, state.done, state.total = True, None, "start", 0, 0
        self.applier.paused.set()
        try:
            target = Path(str(self.store.path) + ".rebuild")

            def progress(phase: str, done: int, total: int) -> None:
                state.phase, state.done, state.total = phase, done, total

            report = rebuild_mod.build(
                self.source,
                target,
                source=source,
                threads=self.store.threads,
                memory_limit=self.store.memory_limit,
                progress=progress,
                pseudonyms=self.store.pseudonyms,
            )
            self.store.swap(target)
            state.source = report.source
            state.applied_seq = report.applied_seq
            return report
        except Exception as exc:
            state.error = str(exc)
            raise
        finally:
            state.running = False
            state.finished_at_ms = int(time.time() * 1000)
            self.applier.paused.clear()
            self.applier.blocked = None
            self.applier.wake()
            self._rebuild_lock.release()

    def rebuild_async(self, source: str = "auto") -> bool:
        """Start a rebuild in a thread; False when one is already running."""
        if self.rebuild_state.running:
            return False

        def run() -> None:
            try:
                self.rebuild(source)
            except Exception:
                log.exception("replica rebuild failed")

        self.rebuild_state.running = True
        threading.Thread(target=run, name="yibao-replica-rebuild", daemon=True).start()
        return True
