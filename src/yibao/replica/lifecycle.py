"""The replica's lifecycle in a serving process: take it up at start, put it down at stop.

- On TiDB the replica is TiFlash: set the tables' TiFlash replicas (a TiDB without TiFlash
  nodes refuses; analytic reads then use TiKV, so that is a warning, not a failure).
- Elsewhere, when the replica is enabled, the process takes the owner lock of the data
  directory (DuckDB allows one read-write process), publishes how to reach it for the
  `yibao replica …` commands, opens the DuckDB replica (catching up or rebuilding) and starts
  its applier, woken by every commit of the row store's writer. Another process holding the
  lock means analytics are served there, not here.

The analytics over the replica are composed by `yibao.runtime.Platform.serve_replica`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from yibao.config import Settings
from yibao.replica.lock import OwnerLock
from yibao.replica.service import Replica
from yibao.replica.tiflash import TiFlashReplica
from yibao.storage.database import Database

log = logging.getLogger(__name__)


@dataclass(eq=False)
class ServedReplica:
    """What this process serves: the DuckDB replica under its owner lock, or TiFlash."""

    replica: Replica | None = None
    tiflash: TiFlashReplica | None = None
    lock: OwnerLock | None = None

    def close(self) -> None:
        if self.replica is not None:
            self.replica.close()  # also releases the lock
            self.replica = None
        elif self.lock is not None:
            self.lock.release()
        self.lock = None
        if self.tiflash is not None:
            self.tiflash.close()
            self.tiflash = None


def open_replica(settings: Settings, db: Database) -> ServedReplica | None:
    """Take up the replica this process serves; None when it serves none (the replica is
    disabled, or another process owns it)."""
    if db.backend.is_tidb:
        tiflash = TiFlashReplica(settings)
        try:
            tiflash.ensure_replicas()
        except Exception as exc:  # a TiDB without TiFlash nodes: analytics fall back to TiKV
            log.warning("TiFlash replicas not set (%s); analytic reads use TiKV", exc)
        return ServedReplica(tiflash=tiflash)
    if not settings.replica_enabled:
        return None
    lock = OwnerLock(settings.data_dir)
    if not lock.acquire():
        log.error(
            "replica: %s is held by another process; analytics are not served here", lock.path
        )
        return None
    lock.publish(f"http://{settings.host}:{settings.port}")
    replica = Replica.open(settings, lock=lock)
    replica.start(db.writer)
    return ServedReplica(replica=replica, lock=lock)
