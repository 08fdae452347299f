"""The replica a bulk load writes into: owned by the loader for the whole load, and brought up
to the end of the change log first, so that the load's reserved seq follows everything the
replica reflects (`simulate.bulk`).

A server running on the data directory owns the replica (the lock file), and the bulk load
writes both stores directly — so the load refuses to start and says to stop the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from yibao.config import Settings
from yibao.errors import ConfigError
from yibao.replica import rebuild as rebuild_mod
from yibao.replica.applier import Applier, ReplicaGap
from yibao.replica.lock import OwnerLock, running_owner
from yibao.replica.service import source_engine
from yibao.replica.store import ReplicaStore


@contextmanager
def replica_for_load(cfg: Settings) -> Iterator[ReplicaStore]:
    owner = running_owner(cfg.data_dir)
    if owner is not None:
        raise ConfigError(
            f"yibao serve 正在使用该数据目录 (a server, pid {owner.pid}, runs on {cfg.data_dir}): "
            "stop it before a bulk load — the load writes the row store and the replica directly"
        )
    lock = OwnerLock(cfg.data_dir)
    if not lock.acquire():
        raise ConfigError("副本正被另一进程使用 (another process holds the replica; retry)")
    engine = source_engine(cfg)
    store: ReplicaStore | None = None
    try:
        store = _open(cfg)
        try:
            if not store.schema_current():
                raise ReplicaGap(store.applied_seq, None)
            applier = Applier(store, engine, batch_rows=rebuild_mod.CHUNK)
            applier.check_continuity()  # a hole at the log's end shows no gap to catch_up
            applier.catch_up()
        except ReplicaGap:
            # an old schema, or a log the replica cannot follow: start from a rebuilt file
            store.close()
            store = None
            rebuild_mod.build_over(
                engine,
                cfg.replica_path,
                threads=cfg.duckdb_threads,
                memory_limit=cfg.duckdb_memory_limit,
            )
            store = _open(cfg)
        # the log is read; closing the reader's connections leaves the bulk loader's the only
        # one on the store (a fresh store's load switches its journal mode, `bulk_load`)
        engine.dispose()
        yield store
    finally:
        if store is not None:
            store.close()
        engine.dispose()
        lock.release()


def _open(cfg: Settings) -> ReplicaStore:
    cfg.replica_path.parent.mkdir(parents=True, exist_ok=True)
    return ReplicaStore(
        cfg.replica_path, threads=cfg.duckdb_threads, memory_limit=cfg.duckdb_memory_limit
    )
