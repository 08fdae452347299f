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
from yibao.replica.store import ReplicaStore, count_rows

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
    # the visit's department and doctor, as `_fee_sql` gives its lines (h of the setl_id)
    return f"""
    WITH b0 AS ({base}),
    b AS (
      SELECT *, 'D' || CAST(h % 20 AS VARCHAR) AS dept_code,
             'A0' || CAST(h % 9 AS VARCHAR) AS caty, 'DR' || CAST(h % 10 AS VARCHAR) AS dr_code
      FROM (SELECT *, CAST(hash(setl_id) % 1000000007 AS BIGINT) AS h FROM b0)
    )
    SELECT * EXCLUDE (reversed, h) FROM b
    UNION ALL BY NAME
    SELECT * EXCLUDE (reversed, h, setl_id, refd_setl_flag, init_setl_id, vali_flag,
                      {", ".join(rows.SETL_AMOUNTS)}),
      'R' || setl_id AS setl_id, '1' AS refd_setl_flag, setl_id AS init_setl_id,
      '1' AS vali_flag, {amounts}
    FROM b WHERE reversed"""


#: the synthetic stays' daily items (bed, nursing, the ward round) and an outpatient
#: treatment a person may have 12 times a year (`posthoc_scale.bench_kb` limits them)
BED_CODES = ("110900001000000",)
NURSING_CODES = ("120100003000000",)
ROUND_CODE = "110300002000000"
YEARLY_CODE = "340200001000000"
#: a line's med_chrgitm_type by its code (the synthetic codes of `_fee_sql`)
_ITEM_TYPE = (
    "CASE left(c, 1) WHEN 'C' THEN '02' WHEN 'D' THEN '09' WHEN 'L' THEN '04' "
    f"WHEN 'E' THEN '03' ELSE (CASE c WHEN '{BED_CODES[0]}' THEN '01' "
    f"WHEN '{NURSING_CODES[0]}' THEN '07' WHEN '{ROUND_CODE}' THEN '02' ELSE '05' END) END"
)


def _fee_sql(source: str) -> str:
    """The `fee` payloads (one row per standing settlement, its lines as lists) of the
    settlements in `source`: an outpatient visit a consultation, labs and drugs (7 days each;
    one in two a treatment limited to 12 a year); a pharmacy sale 1–3 drugs of 7–30 days; a
    stay bed, nursing, the ward round and a drug every day and two labs on admission — about
    eight lines a settlement, as in the simulated city. One stay in 50 of four days or more
    bills only bed and nursing on its last three (挂床), one in 100 an exam the day after
    discharge (虚构服务), one in 100 the bed twice on its first day (频次)."""
    i_lines = "4 * days + 2 + CASE WHEN fab THEN 1 ELSE 0 END"
    keep = "NOT (kind = 'i' AND hog AND k < 4 * days AND k // 4 >= days - 3 AND k % 4 >= 2)"
    drug = "'D' || lpad(CAST((h // 7 + k) % 50 AS VARCHAR), 3, '0')"
    daily = f"['{BED_CODES[0]}', '{NURSING_CODES[0]}', '{ROUND_CODE}', {drug}][k % 4 + 1]"
    code = f"""CASE kind
      WHEN 'o' THEN (CASE WHEN k = 0 THEN 'C0001' WHEN k % 3 = 1 THEN {drug}
                          WHEN k = 2 AND h % 2 = 0 THEN '{YEARLY_CODE}'
                          ELSE 'L' || CAST(k % 20 AS VARCHAR) END)
      WHEN 'p' THEN {drug}
      ELSE (CASE WHEN k < 4 * days THEN {daily}
                 WHEN k < 4 * days + 2 THEN 'L' || CAST(k % 20 AS VARCHAR)
                 ELSE 'E0001' END) END"""
    when = """CASE WHEN kind <> 'i' THEN CAST(setl_time AS TIMESTAMP)
      WHEN k < 4 * days THEN begn + INTERVAL (k // 4) DAY + INTERVAL 8 HOUR
      WHEN k < 4 * days + 2 THEN begn + INTERVAL 10 HOUR
      ELSE endd + INTERVAL 1 DAY + INTERVAL 10 HOUR END"""
    cnt = "CASE WHEN kind = 'i' AND dbl AND k = 0 THEN 20000 ELSE 10000 END"
    days_of = (
        "CASE WHEN left(c, 1) <> 'D' THEN NULL WHEN kind = 'p' THEN (7 + h % 24) * 10000 "
        "ELSE 70000 END"
    )
    count = f"CASE kind WHEN 'o' THEN 2 + h % 12 WHEN 'p' THEN 1 + h % 3 ELSE {i_lines} END"
    return f"""
    WITH b AS (
      SELECT setl_id, mdtrt_id, psn_no, fixmedins_code, med_type, setl_date, setl_time,
             CAST(CAST(begndate AS TIMESTAMP) AS DATE) AS begn,
             CAST(CAST(enddate AS TIMESTAMP) AS DATE) AS endd,
             COALESCE(ipt_days, 1) AS days, CAST(hash(setl_id) % 1000000007 AS BIGINT) AS h,
             CASE med_type WHEN '21' THEN 'i' WHEN '41' THEN 'p' ELSE 'o' END AS kind
      FROM {source} WHERE refd_setl_flag = '0' AND vali_flag = '1'
    ), n AS (
      SELECT *, h % 50 = 0 AND days >= 4 AS hog, h % 100 = 1 AS fab, h % 100 = 2 AS dbl
      FROM b
    ), ks AS (
      SELECT *, [k for k in range({count}) if {keep}] AS ks FROM n
    ), c AS (
      SELECT *, [{code} for k in ks] AS codes FROM ks
    )
    SELECT setl_id, mdtrt_id, psn_no, fixmedins_code, med_type, setl_date,
           'D' || CAST(h % 20 AS VARCHAR) AS dept_code, 'A0' || CAST(h % 9 AS VARCHAR) AS caty,
           'DR' || CAST(h % 10 AS VARCHAR) AS dr_code,
           [CAST(k + 1 AS VARCHAR) for k in ks] AS feedetl_sn,
           [strftime({when}, '%Y-%m-%d %H:%M:%S') for k in ks] AS fee_ocur_time,
           codes AS hilist_code,
           [CASE WHEN left(c, 1) = 'D' THEN '101' ELSE '201' END for c in codes] AS list_type,
           [{_ITEM_TYPE} for c in codes] AS med_chrgitm_type,
           [{cnt} for k in ks] AS cnt,
           [CAST(1000 + (h + k) % 9000 AS BIGINT) for k in ks] AS det_item_fee_sumamt,
           [CAST({days_of} AS BIGINT) for c in codes] AS prd_days
    FROM c"""


def _persons_sql(total: int) -> str:
    """The city's persons (`psn` payloads): one in 200 died mid-year (post-hoc card_misuse
    finds their later visits)."""
    persons = max(1, total // 12)
    return f"""
    SELECT '110001' || lpad(CAST(i AS VARCHAR), 14, '0') AS psn_no,
           CASE WHEN i % 2 = 0 THEN '1' ELSE '2' END AS gend,
           CAST(1940 + i % 80 AS INTEGER) AS birth_year, '310' AS insutype, '11' AS psn_type,
           '1' AS psn_insu_stas, '110100' AS insuplc_admdvs, false AS assistance,
           CASE WHEN hash(i) % 200 = 0
                THEN strftime(DATE '{YEAR}-06-01' + CAST(hash(i) % 120 AS INTEGER), '%Y-%m-%d')
           END AS death_date
    FROM range({persons}) t(i)"""


def _chunks(total: int) -> Iterator[tuple[pa.Table, pa.Table]]:
    """(settlements, their fee payloads) per chunk."""
    gen = duckdb.connect(config={"threads": 1})
    try:
        for start in range(0, total, CHUNK):
            setl = gen.sql(_setl_sql(total, start, min(total, start + CHUNK))).to_arrow_table()
            gen.register("chunk", setl)
            fee = gen.sql(_fee_sql("chunk")).to_arrow_table()
            gen.unregister("chunk")
            yield setl, fee
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
        gen = duckdb.connect(config={"threads": 1})
        try:
            store.bulk_append("psn", gen.sql(_persons_sql(total)).to_arrow_table())
        finally:
            gen.close()
        started = time.perf_counter()
        appended = 0
        for table, fee in _chunks(total):
            appended += store.bulk_append("setl", table, refresh_rollups=False)
            store.bulk_append("fee", fee, refresh_rollups=False)
        append_s = time.perf_counter() - started
        started = time.perf_counter()
        store.refresh_rollups()
        refresh_s = time.perf_counter() - started
        store.checkpoint()
        lines = count_rows(store.cursor(), "fee_fact")
    finally:
        store.close()
    return {
        "rows": appended,
        "fee_lines": lines,
        "append_s": round(append_s, 1),
        "refresh_s": round(refresh_s, 1),
    }


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
