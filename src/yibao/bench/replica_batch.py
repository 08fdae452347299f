"""What one replica micro-batch costs, statement by statement, on a large replica.

The applier applies each micro-batch in one DuckDB transaction (`ReplicaStore.apply`); its
cost bounds freshness. This applies `--batches` batches of `--size` settlements with their
settled fee lines (`fee` payloads, as the live path writes them; new settlements on the
replica's last day, plus every `--reversal-every`th batch a reversal: the original re-sent
with vali_flag "0" and its lines given back, and a reversal record) to a **copy** of a replica built by
`yibao.bench.replica_scale`, and reports the median and p90 per batch and the median time of
each DuckDB statement (by its first words), so an idea can be measured statement by statement,
and then the cost of one batch two days later, which seals a day (once a day on a live server):

    .venv/bin/python -m yibao.bench.replica_batch --path /tmp/yb10m.duckdb
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import duckdb
import pyarrow as pa

from yibao.bench.replica_scale import _fee_sql, _setl_sql
from yibao.replica.batches import Batch
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.schema import BY_ENTITY
from yibao.replica.store import ReplicaStore


def _words(sql: str) -> str:
    """A statement's first words, the arguments of an `EXECUTE name(…)` left out."""
    return re.sub(r"^(EXECUTE \w+)\(.*", r"\1(…)", re.sub(r"\s+", " ", sql.strip()))[:60]


class _TimedCursor:
    """Delegates to a DuckDB cursor and records how long each `execute` takes."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, log: list[tuple[str, float]]) -> None:
        self._cur = cur
        self._log = log

    def execute(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._cur.execute(sql, *args)
        finally:
            words = _words(sql)
            self._log.append((words, (time.perf_counter() - started) * 1000))

    def sql(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._cur.sql(sql, *args)
        finally:
            words = _words(sql)
            self._log.append((words, (time.perf_counter() - started) * 1000))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


def _shape(table: pa.Table, seq0: int, entity: str = "setl") -> pa.Table:
    schema = BY_ENTITY[entity].arrow_schema
    n = table.num_rows
    cols = []
    for f in schema:
        if f.name == "seq":
            cols.append(pa.array(range(seq0, seq0 + n), pa.int64()))
        elif f.name == "op":
            cols.append(pa.array(["upsert"] * n))
        else:
            cols.append(table.column(f.name).cast(f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def _batch(gen: duckdb.DuckDBPyConnection, table: pa.Table, seq: int) -> Batch:
    """A micro-batch as the live path writes it: each settlement's `setl` change and its
    `fee` change (the lines it settled; a reversed original's with no lines left)."""
    gen.register("batch_setl", table)
    try:
        fee = gen.sql(_fee_sql("batch_setl")).to_arrow_table()
        gone = gen.sql(
            "SELECT setl_id, mdtrt_id, psn_no, fixmedins_code, med_type, setl_date "
            "FROM batch_setl WHERE vali_flag = '0'"
        ).to_arrow_table()
    finally:
        gen.unregister("batch_setl")
    if gone.num_rows:
        empty = {
            f.name: pa.array([[]] * gone.num_rows, f.type)
            for f in fee.schema
            if f.name not in gone.column_names and pa.types.is_list(f.type)
        }
        plain = {
            f.name: pa.nulls(gone.num_rows, f.type)
            for f in fee.schema
            if f.name not in gone.column_names and not pa.types.is_list(f.type)
        }
        gone_fee = pa.table({**{n: gone.column(n) for n in gone.column_names}, **empty, **plain})
        fee = pa.concat_tables([fee, gone_fee.select(fee.column_names).cast(fee.schema)])
    setl = _shape(table, seq)
    fees = _shape(fee, seq + setl.num_rows, "fee")
    changes = setl.num_rows + fees.num_rows
    return Batch(
        tables={"setl": setl, "fee": fees},
        first_seq=seq,
        last_seq=seq + changes - 1,
        last_ts_ms=int(time.time() * 1000),
        changes=changes,
    )


def run(
    path: Path, *, batches: int, size: int, reversal_every: int, threads: int
) -> dict[str, Any]:
    copy = Path(str(path) + ".batch")
    shutil.copyfile(path, copy)
    Path(str(copy) + ".wal").unlink(missing_ok=True)
    store = ReplicaStore(copy, threads=threads, pseudonyms=Pseudonyms.ephemeral())
    gen = duckdb.connect(config={"threads": 1})
    try:
        _s, _c, top = store.query("SELECT max(setl_date), count(*) FROM setl_fact")
        last_day, total = top[0][0], int(top[0][1])
        _s, _c, old = store.query(
            "SELECT setl_id FROM setl_fact WHERE setl_date = $d AND refd_setl_flag = '0' "
            "AND vali_flag = '1' LIMIT $n",
            {"d": last_day, "n": batches},
        )
        seq = store.applied_seq + 1
        log: list[tuple[str, float]] = []
        real_cursor = store.cursor
        # Time every statement the store runs: its cursor factory hands out a timing proxy.
        store.cursor = lambda: cast(  # type: ignore[method-assign]
            duckdb.DuckDBPyConnection, _TimedCursor(real_cursor(), log)
        )
        per_batch: list[float] = []
        #: CPU of the process (DuckDB runs on the calling thread at threads=1): steadier than
        #: wall time on a shared machine
        cpu_per_batch: list[float] = []
        rows_per_batch: list[int] = []
        statements: dict[str, list[float]] = defaultdict(list)
        for b in range(batches):
            start = 10 * total + b * size  # ids never used by the build
            sql = _setl_sql(total, start, start + size).replace(
                "DATE '2025-01-01' + CAST(i * 365 // " + str(total) + " AS INTEGER)",
                f"DATE '{last_day}'",
            )
            table = gen.sql(sql).to_arrow_table()
            if reversal_every and b % reversal_every == 0 and b < len(old):
                sid = old[b][0]
                orig = (
                    gen.sql(
                        sql.replace(
                            f"range({start}, {start + size})", f"range({start}, {start + 1})"
                        )
                    )
                    .to_arrow_table()
                    .slice(0, 1)
                )
                orig = orig.set_column(
                    orig.schema.get_field_index("setl_id"), "setl_id", pa.array([sid])
                )
                orig = orig.set_column(
                    orig.schema.get_field_index("vali_flag"), "vali_flag", pa.array(["0"])
                )
                table = pa.concat_tables([table, orig])
            batch = _batch(gen, table, seq)
            seq = batch.last_seq + 1
            log.clear()
            started, cpu0 = time.perf_counter(), time.process_time()
            store.apply(batch)
            per_batch.append((time.perf_counter() - started) * 1000)
            cpu_per_batch.append((time.process_time() - cpu0) * 1000)
            rows_per_batch.append(batch.tables["setl"].num_rows)
            grouped: dict[str, float] = defaultdict(float)
            for words, ms in log:
                grouped[words] += ms
            for words, ms in grouped.items():
                statements[words].append(ms)
            n_statements = len(log)
        # a batch two days past the last one seals a day (compaction + persons merge): the
        # once-a-day cost, reported apart
        start = 10 * total + batches * size
        sql = _setl_sql(total, start, start + size).replace(
            "DATE '2025-01-01' + CAST(i * 365 // " + str(total) + " AS INTEGER)",
            f"DATE '{last_day + timedelta(days=2)}'",
        )
        sealing = _batch(gen, gen.sql(sql).to_arrow_table(), seq)
        log.clear()
        started = time.perf_counter()
        store.apply(sealing)
        seal_ms = (time.perf_counter() - started) * 1000
        seal_statements = len(log)
    finally:
        gen.close()
        store.close()
        copy.unlink(missing_ok=True)
        Path(str(copy) + ".wal").unlink(missing_ok=True)
    per_batch.sort()
    cpu_median = statistics.median(cpu_per_batch)
    return {
        "batches": batches,
        "size": size,
        "statements_per_batch": n_statements,
        "batch_ms_median": round(statistics.median(per_batch), 1),
        "batch_ms_p90": round(per_batch[int(0.9 * (len(per_batch) - 1))], 1),
        "batch_cpu_ms_median": round(cpu_median, 2),
        "cpu_us_per_row": round(cpu_median * 1000 / statistics.median(rows_per_batch), 1),
        "sealing_batch_ms": round(seal_ms, 1),
        "sealing_batch_statements": seal_statements,
        "statement_ms_median": {
            k: round(statistics.median(v), 2)
            for k, v in sorted(statements.items(), key=lambda kv: -statistics.median(kv[1]))
        },
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--path", type=Path, default=Path("/tmp/yb_replica_scale.duckdb"))
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--size", type=int, default=50)
    ap.add_argument("--reversal-every", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    out = run(
        args.path,
        batches=args.batches,
        size=args.size,
        reversal_every=args.reversal_every,
        threads=args.threads,
    )
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
