"""Every registered analytic query on a synthetic replica of N settlements (default 10 million).

Building a 10-million-settlement row store with `yibao simulate load` takes a long while
(bench/RESULTS.md), so this measures the replica alone: it fills a DuckDB file with
synthetic settlements through the bulk loader's own path (`ReplicaStore.bulk_append` in
time-ordered chunks, then one `refresh_rollups()`), then times every query of the registry
over a whole year and the dashboard's set for one day, as the analytics service runs them
(one snapshot, DuckDB SQL, indicators finished in Decimal).

    .venv/bin/python -m yibao.bench.replica_scale --path /tmp/yb10m.duckdb            # build + time
    .venv/bin/python -m yibao.bench.replica_scale --path /tmp/yb10m.duckdb --reuse    # time only

The data is generated in DuckDB from `range()` and `hash()` (deterministic; no numpy here):
a city of N/12 persons (20-character psn_no like the simulator's — longer than DuckDB's
12-byte inlined strings, which matters for the distinct count), 1,500 institutions in 16 districts, one year, 0.5 % of settlements
reversed (the original re-sent with vali_flag "0", a reversal record the same day). Amounts
are integer fen, as in the payloads.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from yibao.analytics.registry import registry
from yibao.analytics.service import _finish, dashboard_queries
from yibao.replica import rows
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.store import ReplicaStore

YEAR = 2025
INSTITUTIONS = 1500
DISTRICTS = tuple(f"1101{n:02d}" for n in (1, 2, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19))
CHUNK = 500_000

# (amount, fen expression over the row's random draws r1..r3) — all integers
_MEDFEE = "(2000 + r1 % 300000 + CASE WHEN inpatient THEN 500000 + r2 % 3000000 ELSE 0 END)"
_AMOUNTS = {
    "medfee_sumamt": "medfee",
    "fulamt_ownpay_amt": "medfee // 20",
    "overlmt_selfpay": "medfee // 50",
    "preselfpay_amt": "medfee // 25",
    "inscp_scp_amt": "medfee - medfee // 20 - medfee // 50 - medfee // 25",
    "act_pay_dedc": "0",
    "hifp_pay": "medfee * 55 // 100",
    "cvlserv_pay": "0",
    "hifes_pay": "0",
    "hifmi_pay": "CASE WHEN inpatient THEN medfee // 20 ELSE 0 END",
    "hifob_pay": "0",
    "maf_pay": "0",
    "oth_pay": "0",
    "hifdm_pay": "0",
    "fund_pay_sumamt": "medfee * 55 // 100 + CASE WHEN inpatient THEN medfee // 20 ELSE 0 END",
    "psn_part_amt": "medfee - medfee * 55 // 100 - CASE WHEN inpatient THEN medfee // 20 ELSE 0 END",
    "acct_pay": "(medfee - medfee * 55 // 100) // 3",
    "psn_cash_pay": "0",
    "hosp_part_amt": "0",
    "acct_mulaid_pay": "0",
    "drug_sumamt": "medfee * 40 // 100",
    "mcs_sumamt": "medfee * 10 // 100",
    "exam_sumamt": "medfee * 15 // 100",
}
assert set(_AMOUNTS) == set(rows.SETL_AMOUNTS)


def _setl_sql(total: int, start: int, stop: int) -> str:
    """Settlements `start..stop-1` of `total` (the day grows with i: chunks are time-ordered),
    plus a reversal record for every 200th."""
    persons = max(1, total // 12)
    districts = "[" + ", ".join(f"'{d}'" for d in DISTRICTS) + "]"
    base = f"""
    WITH g AS (
      SELECT i, DATE '{YEAR}-01-01' + CAST(i * 365 // {total} AS INTEGER) AS d,
             CAST(hash(i * 3 + 1) % 1000000007 AS BIGINT) AS r1, CAST(hash(i * 3 + 2) % 1000000007 AS BIGINT) AS r2,
             CAST(hash(i * 3 + 3) % 1000000007 AS BIGINT) AS r3
      FROM (SELECT CAST(range AS BIGINT) AS i FROM range({start}, {stop}))
    ), h AS (
      SELECT *, r1 % {INSTITUTIONS} AS inst, r2 % 100 < 6 AS inpatient,
             r3 % 100 < 8 AS pharmacy, i % 200 = 0 AS reversed
      FROM g
    ), s AS (
      SELECT *, {_MEDFEE} AS medfee FROM h
    )
    SELECT 'S1101' || lpad(CAST(i AS VARCHAR), 16, '0') AS setl_id,
      'M1101' || lpad(CAST(i AS VARCHAR), 16, '0') AS mdtrt_id,
      '110001' || lpad(CAST(hash(i * 7 + 5) % {persons} AS VARCHAR), 14, '0') AS psn_no,
      'H' || lpad(CAST(inst AS VARCHAR), 11, '0') AS fixmedins_code,
      CASE WHEN r2 % 10 < 7 THEN '310' ELSE '390' END AS insutype,
      CASE WHEN r3 % 10 < 6 THEN '11' WHEN r3 % 10 < 8 THEN '12' ELSE '21' END AS psn_type,
      CASE WHEN inpatient THEN '21' WHEN pharmacy THEN '41' ELSE '11' END AS med_type,
      CASE WHEN inpatient THEN '21' ELSE '11' END AS clr_type,
      CAST(1 + inst % 3 AS VARCHAR) AS hosp_lv,
      '110100' AS insuplc_admdvs,
      'D' || lpad(CAST(r1 // 7 % 2000 AS VARCHAR), 4, '0') AS maindiag_code,
      NULL AS dise_codg, '0' AS refd_setl_flag, NULL AS init_setl_id,
      CASE WHEN reversed THEN '0' ELSE '1' END AS vali_flag,
      {districts}[1 + inst % {len(DISTRICTS)}] AS admdvs,
      CASE WHEN r3 % 2 = 0 THEN '1' ELSE '2' END AS gend,
      CAST(r2 // 7 % 90 AS INTEGER) AS age, {YEAR} AS year,
      strftime(d + INTERVAL (8 * 3600 + i % 36000) SECOND, '%Y-%m-%d %H:%M:%S') AS setl_time,
      strftime(d, '%Y-%m-%d') AS setl_date,
      CASE WHEN inpatient THEN strftime(d - INTERVAL (r3 % 10) DAY, '%Y-%m-%d %H:%M:%S') END
        AS begndate,
      CASE WHEN inpatient THEN strftime(d, '%Y-%m-%d %H:%M:%S') END AS enddate,
      CASE WHEN inpatient THEN CAST(GREATEST(1, r3 % 10) AS INTEGER) END AS ipt_days,
      CAST(1 + r1 // 11 % 12 AS INTEGER) AS fee_line_cnt,
      {", ".join(f"CAST({e} AS BIGINT) AS {n}" for n, e in _AMOUNTS.items())},
      reversed
    FROM s"""
    amounts = ", ".join(f"-{n} AS {n}" for n in rows.SETL_AMOUNTS)
    return f"""
    WITH b AS ({base})
    SELECT * EXCLUDE (reversed) FROM b
    UNION ALL BY NAME
    SELECT * EXCLUDE (reversed, setl_id, refd_setl_flag, init_setl_id, vali_flag,
                      {", ".join(rows.SETL_AMOUNTS)}),
      'R' || setl_id AS setl_id, '1' AS refd_setl_flag, setl_id AS init_setl_id,
      '1' AS vali_flag, {amounts}
    FROM b WHERE reversed"""


def _chunks(total: int) -> Iterator[pa.Table]:
    gen = duckdb.connect(config={"threads": 1})
    try:
        for start in range(0, total, CHUNK):
            yield gen.sql(_setl_sql(total, start, min(total, start + CHUNK))).to_arrow_table()
    finally:
        gen.close()


def _institutions() -> pa.Table:
    codes = [f"H{i:011d}" for i in range(INSTITUTIONS)]
    return pa.table(
        {
            "fixmedins_code": codes,
            "fixmedins_name": [f"合成定点机构{i}" for i in range(INSTITUTIONS)],
            "kind": ["1"] * INSTITUTIONS,
            "hosp_lv": [str(1 + i % 3) for i in range(INSTITUTIONS)],
            "admdvs": [DISTRICTS[i % len(DISTRICTS)] for i in range(INSTITUTIONS)],
            "parent_code": [None] * INSTITUTIONS,
            "vali_flag": ["1"] * INSTITUTIONS,
        }
    )


def build(path: Path, total: int, *, threads: int, memory_limit: str) -> dict[str, float]:
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)
    # synthetic persons: a throw-away pseudonym key (no key file beside /tmp files)
    store = ReplicaStore(
        path, threads=threads, memory_limit=memory_limit, pseudonyms=Pseudonyms.ephemeral()
    )
    try:
        store.bulk_append("fixmedins", _institutions())
        started = time.perf_counter()
        appended = 0
        for table in _chunks(total):
            appended += store.bulk_append("setl", table, refresh_rollups=False)
        append_s = time.perf_counter() - started
        started = time.perf_counter()
        store.refresh_rollups()
        refresh_s = time.perf_counter() - started
        store.checkpoint()
    finally:
        store.close()
    return {"rows": appended, "append_s": round(append_s, 1), "refresh_s": round(refresh_s, 1)}


def _cases(store: ReplicaStore, day: date) -> list[tuple[str, str, dict[str, Any]]]:
    """Every registered query over the whole year, the summary with a broad filter, and the
    dashboard's set for `day`."""
    year: dict[str, Any] = {"date_from": date(YEAR, 1, 1), "date_to": date(YEAR, 12, 31)}
    _seq, _cols, top = store.query(
        "SELECT fixmedins_code FROM agg_day_inst GROUP BY 1 ORDER BY sum(setl_cnt) DESC LIMIT 1"
    )
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for name in registry():
        params = dict(year)
        if name == "settlements":
            params["fixmedins_code"] = top[0][0] if top else "H00000000000"
        cases.append((f"year {name}", name, params))
    cases.append(("year summary outpatient", "summary", {**year, "visit_kind": "outpatient"}))
    cases.append(("year summary 110105", "summary", {**year, "admdvs": "110105"}))
    cases += [(f"dashboard {panel}", n, p) for panel, n, p in dashboard_queries(day)]
    return cases


def measure(path: Path, *, repeat: int, threads: int, memory_limit: str) -> dict[str, Any]:
    store = ReplicaStore(
        path,
        threads=threads,
        memory_limit=memory_limit,
        read_only=True,
        pseudonyms=Pseudonyms.ephemeral(),
    )
    try:
        _seq, _c, n = store.query("SELECT count(*) FROM setl_fact")
        results: dict[str, float] = {}
        for label, name, params in _cases(store, date(YEAR, 12, 15)):
            query = registry()[name]
            values = query.bind(params)
            times = []
            for _ in range(repeat + 1):  # the first run warms the cache
                started = time.perf_counter()
                with store.snapshot() as (cur, _s):
                    sql, sql_params = query.duckdb_for(values)
                    result = cur.execute(sql, sql_params)
                    columns = [d[0] for d in result.description or []]
                    _finish(query, columns, result.fetchall(), fen=False)
                times.append((time.perf_counter() - started) * 1000)
            results[label] = round(min(times[1:]), 1)
    finally:
        store.close()
    return {
        "setl_fact_rows": int(n[0][0]),
        "threads": threads,
        "repeat": repeat,
        "best_ms": results,
        "median_of_best_ms": round(statistics.median(results.values()), 1),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--path", type=Path, default=Path("/tmp/yb_replica_scale.duckdb"))
    ap.add_argument("--settlements", type=int, default=10_000_000)
    ap.add_argument("--reuse", action="store_true", help="time the existing file, do not build")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--memory-limit", default="1GB")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"loadavg_start": [round(x, 2) for x in os.getloadavg()]}
    if not args.reuse:
        out["build"] = build(
            args.path, args.settlements, threads=args.threads, memory_limit=args.memory_limit
        )
    out.update(
        measure(args.path, repeat=args.repeat, threads=args.threads, memory_limit=args.memory_limit)
    )
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
