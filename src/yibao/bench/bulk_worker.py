"""Benchmark: what one bulk-load worker spends per settlement, without the pool or the writer.

    .venv/bin/python -m yibao.bench.bulk_worker [--persons 40000] [--chunks 6] [--json PATH]

Builds the city `yibao simulate load --persons N --institutions 1000 --settlements 10×N`
would load and runs its first chunks through a worker's steps, one after the other in this
process: visit generation (`build_chunk`), settlement and rows (`Settler.run`: the policy
engine, restriction checks, row tuples, replica tables), the spool file
(`write_spool`, to a temporary directory) and the writer's merge of that spool into a scratch
row store holding the five settlement tables with their indexes (`merge_spools`, as the bulk
writer does on a fresh store: synchronous OFF, foreign keys off, the bulk page cache).
Prints microseconds per settlement for each step; their sum is the CPU a settlement costs
the whole load (workers and writer), which two cores share.
The first chunk includes the memos' warm-up, as in a real worker. To see where the time goes:

    .venv/bin/py-spy record -o worker.svg -- .venv/bin/python -m yibao.bench.bulk_worker

Not a test: speed lives in benchmarks (figures in bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine

from yibao.bench.machine import machine
from yibao.kit.clock import local_naive_now
from yibao.kit.collector import young_collections_only
from yibao.policy import load_book
from yibao.simulate import bulk
from yibao.simulate.bulk_writer import bulk_cache_kib
from yibao.simulate.catalog_seed import catalog_item_of
from yibao.simulate.clinical import BUILTIN_ITEMS
from yibao.simulate.context import CityContext
from yibao.simulate.model import CityParams
from yibao.simulate.people import make_institutions
from yibao.simulate.row_shapes import constants_for
from yibao.simulate.settle_rows import Settler
from yibao.simulate.spool import ROW_TABLES, merge_spools, merge_statements, write_spool
from yibao.simulate.visits import build_chunk
from yibao.storage.schema.base import metadata


def _scratch_store(path: Path) -> sqlite3.Connection:
    """The row store's settlement tables and their indexes, set up as the bulk writer sets a
    fresh store up (`yibao.simulate.bulk`)."""
    engine = create_engine(f"sqlite:///{path}")
    metadata.create_all(engine, tables=list(ROW_TABLES.values()))
    engine.dispose()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=MEMORY")  # as a fresh store's load runs
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA foreign_keys=OFF")
    db.execute(f"PRAGMA cache_size=-{bulk_cache_kib()}")
    return db


@young_collections_only  # as the load runs
def run(persons: int, chunks: int) -> dict[str, object]:
    params = CityParams(persons=persons, institutions=1000, settlements=persons * 10)
    institutions = make_institutions(params)
    people = list(bulk.persons_for(params))
    ctx = CityContext(params, institutions, scale=bulk.size_city(params, people))
    catalog = {i.code: catalog_item_of(i) for i in BUILTIN_ITEMS}
    settler = Settler(
        load_book([]),
        catalog,
        {i.fixmedins_code: i for i in institutions},
        now=local_naive_now(),
        compact=True,  # spooled, as a load's worker
    )
    size = bulk.chunk_size(persons)
    spent = {"generate": 0.0, "settle_and_rows": 0.0, "spool": 0.0, "merge": 0.0}
    settlements = lines = 0
    constants = {name: constants_for(t, settler.now) for name, t in ROW_TABLES.items()}
    merge = merge_statements(constants, None, slots=1)  # one chunk a transaction, no persons
    with tempfile.TemporaryDirectory(prefix="yibao-bulk-worker-") as tmp:
        store = _scratch_store(Path(tmp) / "rows.db")
        for k in range(chunks):
            part = people[k * size : (k + 1) * size]
            if not part:
                break
            gc.collect(0)  # as a worker does at each chunk's start
            t0 = time.perf_counter()
            builder = build_chunk(ctx, k, part)
            t1 = time.perf_counter()
            rows = settler.run(part, builder.visits)
            t2 = time.perf_counter()
            write_spool(Path(tmp), k, rows)
            t3 = time.perf_counter()
            merge_spools(store, [str(rows.spool)], merge)
            t4 = time.perf_counter()
            spent["generate"] += t1 - t0
            spent["settle_and_rows"] += t2 - t1
            spent["spool"] += t3 - t2
            spent["merge"] += t4 - t3
            settlements += rows.settlements
            lines += rows.lines
        (merged,) = store.execute("SELECT count(*) FROM fee_detail").fetchone()
        store.close()
    per = {k: round(v / settlements * 1e6, 1) for k, v in spent.items()} if settlements else {}
    return {
        "scenario": "bulk_worker",
        "params": {"persons": persons, "chunks": chunks, "persons_per_chunk": size},
        "settlements": settlements,
        "fee_lines": lines,
        "fee_lines_merged": merged,
        "us_per_settlement": {**per, "total": round(sum(per.values()), 1)},
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=40_000, help="city size (persons)")
    parser.add_argument("--chunks", type=int, default=6, help="chunks to run (≥ 1)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.persons < 100 or args.chunks < 1:
        parser.error("--persons must be at least 100 and --chunks at least 1")
    result = run(args.persons, args.chunks)
    per = result["us_per_settlement"]
    assert isinstance(per, dict)
    print(f"settlements {result['settlements']:,}, fee lines {result['fee_lines']:,}")
    print("µs per settlement: " + ", ".join(f"{k} {v}" for k, v in per.items()))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
