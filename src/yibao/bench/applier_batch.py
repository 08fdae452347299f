"""What one applier batch costs, statement by statement.

    python -m yibao.bench.applier_batch DATA_DIR [--changes 6000] [--per 80] [--runs 1]

DATA_DIR is a data directory whose server has stopped (e.g. one left by
`bench/scripts/ab_settle.sh`; its settings name the row store, SQLite or MySQL protocol). The
tool copies its replica to a temporary file, takes the
replica back to `--changes` changes before the end of the change log (the facts those changes
wrote are removed, so settlements arrive as first images, as they do live), and applies the
changes again in batches of `--per` through `ReplicaStore.apply`, timing every DuckDB
statement. The rollups count the replayed changes twice in the copy: timing only, the data
directory is not touched. Prints the milliseconds a batch and each statement's share.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from yibao.config import Settings, load_settings
from yibao.replica import batches
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.store import ReplicaStore
from yibao.storage.changelog import read_after
from yibao.storage.engine import make_engine
from yibao.storage.tables import change_log

#: the fact tables a replayed change wrote (their rows carry the change's seq)
FACTS = ("setl_fact", "fee_fact", "mdtrt_fact")


def run(settings: Settings, *, changes: int, per: int) -> dict[str, Any]:
    """Replay the last `changes` changes of the settings' row store into a copy of its replica,
    `per` a batch; the figures (nothing of the data directory is written)."""
    replica = settings.replica_path
    if not replica.exists():
        raise SystemExit(
            f"{replica}: no replica file here (give the data directory of a stopped server)"
        )
    with tempfile.TemporaryDirectory(prefix="yibao-applier-") as tmp:
        copy = Path(tmp) / "replica.duckdb"
        shutil.copy(replica, copy)
        store = ReplicaStore(copy, pseudonyms=Pseudonyms.for_dir(settings.data_dir))
        engine = make_engine(settings.db_url, writer=False, pool_name="bench")
        try:
            with engine.connect() as conn:
                last = int(conn.execute(select(func.max(change_log.c.seq))).scalar() or 0)
                conn.rollback()
            start = max(0, min(last - changes, store.applied_seq))
            with store.write_lock:
                store._con.execute(f"UPDATE replica_meta SET applied_seq = {int(start)}")
                for table in FACTS:
                    store._con.execute(f"DELETE FROM {table} WHERE seq > {int(start)}")
                store._meta = store._read_meta()
            spent: defaultdict[str, float] = defaultdict(float)
            _timing(store, spent)
            total = 0.0
            count = 0
            replayed = 0
            with engine.connect() as conn:
                while True:
                    rows = read_after(conn, store.applied_seq, per)
                    if not rows:
                        break
                    batch = batches.build(rows)
                    t0 = time.perf_counter()
                    store.apply(batch)
                    total += time.perf_counter() - t0
                    count += 1
                    replayed += batch.changes
                conn.rollback()
        finally:
            store.close()
            engine.dispose()
    return {
        "batches": count,
        "changes": replayed,
        "per": per,
        "ms_per_batch": round(1000 * total / count, 2) if count else None,
        "statements_ms_per_batch": {
            sql: round(1000 * s / count, 2)
            for sql, s in sorted(spent.items(), key=lambda kv: -kv[1])
        }
        if count
        else {},
    }


def _timing(store: ReplicaStore, spent: defaultdict[str, float]) -> None:
    """Wrap the copy's statement doors (every batch statement goes through `_run`,
    `_returning` or `_append`) so that each statement's time is summed by the beginning of its
    text (`append <table>` for rows appended from Arrow)."""
    run_sql, returning, append = store._run, store._returning, store._append

    def label(sql: str) -> str:
        return " ".join(sql.split())[:70]

    def timed_run(cur: Any, sql: str) -> None:
        t0 = time.perf_counter()
        run_sql(cur, sql)
        spent[label(sql)] += time.perf_counter() - t0

    def timed_returning(cur: Any, sql: str) -> Any:
        t0 = time.perf_counter()
        out = returning(cur, sql)
        spent[label(sql)] += time.perf_counter() - t0
        return out

    def timed_append(cur: Any, table: str, images: Any) -> None:
        t0 = time.perf_counter()
        append(cur, table, images)
        spent[f"append {table}"] += time.perf_counter() - t0

    store._run = timed_run  # type: ignore[method-assign]
    store._append = timed_append  # type: ignore[method-assign]
    store._returning = timed_returning  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m yibao.bench.applier_batch",
        description="Time one replica-applier batch statement by statement, replaying the last "
        "changes of a stopped server's data directory into a copy of its replica.",
    )
    parser.add_argument("data_dir", type=Path, help="a stopped server's data directory")
    parser.add_argument("--changes", type=int, default=6000, help="changes to replay (6000)")
    parser.add_argument("--per", type=int, default=80, help="changes a batch (80)")
    args = parser.parse_args(argv)
    if args.changes < 1 or args.per < 1:
        parser.error("--changes and --per must be at least 1")
    settings = load_settings(data_dir=args.data_dir)
    result = run(settings, changes=args.changes, per=args.per)
    print(
        f"{result['batches']} batches of ≤{args.per} changes: {result['ms_per_batch']} ms a batch"
    )
    for sql, ms in result["statements_ms_per_batch"].items():
        print(f"{ms:8.2f} ms  {sql}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
