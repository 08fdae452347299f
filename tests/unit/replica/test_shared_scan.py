"""Panels answered from one `GROUPING SETS` scan equal the panels' own queries, row for row
and in the same order — over random rollups with ties in the fund amounts, negative
(reversed) days and every filter."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from yibao.analytics import shared_scan
from yibao.analytics.registry import get
from yibao.replica.schema import MEASURE_NAMES, ROLLUPS

AGG_DAY = next(r for r in ROLLUPS if r.table == "agg_day")
VALUES = {
    "admdvs": ["110101", "110102", "110105", ""],
    "hosp_lv": ["1", "2", "3", "9"],
    "insutype": ["310", "390"],
    "med_type": ["11", "14", "21", "41"],
    "psn_type": ["11", "21", "1101"],
    "visit_kind": ["outpatient", "inpatient", "pharmacy"],
}
DIMS = ("region", "hosp_lv", "insutype", "med_type", "psn_type", "visit_kind", "day", "month")
START = date(2024, 1, 1)


def _rollup(seed: int) -> duckdb.DuckDBPyConnection:
    rng = random.Random(seed)
    con = duckdb.connect()
    con.execute(AGG_DAY.ddl())
    rows = []
    for _ in range(600):
        day = START + timedelta(days=rng.randrange(70))
        keys = [rng.choice(VALUES[k]) for k in AGG_DAY.keys]
        # few distinct amounts, so that fund totals tie and the key decides the order
        measures: list[Any] = []
        for name in MEASURE_NAMES:
            if name.endswith("_cnt") or name == "ipt_days":
                measures.append(rng.choice([-1, 1, 1, 2]))
            else:
                measures.append(Decimal(rng.choice([-50, 0, 25, 100, 100])) / 4)
        rows.append((day, *keys, *measures))
    marks = ", ".join("?" for _ in rows[0])
    con.executemany(f"INSERT INTO agg_day VALUES ({marks})", rows)
    return con


def _alone(con: duckdb.DuckDBPyConnection, name: str, values: dict[str, Any]) -> list[tuple]:
    sql, params = get(name).duckdb_for(values)
    return [tuple(r) for r in con.execute(sql, params).fetchall()]


@pytest.mark.parametrize("seed", range(6))
def test_a_shared_scan_answers_each_panel_as_its_own_query_does(seed: int) -> None:
    con = _rollup(seed)
    rng = random.Random(1000 + seed)
    for _ in range(8):
        dims = rng.sample(DIMS, rng.randint(2, len(DIMS)))
        raw: dict[str, Any] = {
            "date_from": START + timedelta(days=rng.randrange(30)),
            "date_to": START + timedelta(days=rng.randrange(30, 80)),
        }
        for name, choices in VALUES.items():
            if rng.random() < 0.2:
                raw[name] = rng.choice([c for c in choices if c])
        bound = [(f"p_{d}", get(f"by_{d}"), get(f"by_{d}").bind(raw)) for d in dims]
        scans, alone = shared_scan.plan(bound)
        assert len(scans) == 1 and not alone
        scan = scans[0]
        records = con.execute(scan.sql, scan.params).fetchall()
        answers = shared_scan.split(scan, records)
        for d in dims:
            expected = _alone(con, f"by_{d}", bound[dims.index(d)][2])
            assert answers[f"p_{d}"] == expected, (d, raw)


def test_only_plain_day_rollup_queries_with_equal_parameters_share() -> None:
    month = {"date_from": "2024-02-01", "date_to": "2024-02-29"}
    other = {"date_from": "2024-01-01", "date_to": "2024-02-29"}
    items = [
        ("insutype", "by_insutype", month),
        ("hosp_lv", "by_hosp_lv", month),
        ("trend", "by_day", other),
        ("one", "by_med_type", other),
        ("summary", "summary", month),
        ("inst", "by_institution", month),
        ("top", "top_institutions", {**month, "limit": 5}),
        ("diag", "by_diagnosis", month),
    ]
    bound = [(panel, get(name), get(name).bind(params)) for panel, name, params in items]
    scans, alone = shared_scan.plan(bound)
    assert [(s.panels, s.dims) for s in scans] == [
        (("insutype", "hosp_lv"), ("insutype", "hosp_lv")),
        (("trend", "one"), ("day", "med_type")),
    ]
    assert sorted(panel for panel, _q, _v in alone) == ["diag", "inst", "summary", "top"]


def test_a_filtered_panel_does_not_share_with_an_unfiltered_one() -> None:
    month = {"date_from": "2024-02-01", "date_to": "2024-02-29"}
    items = [
        ("a", "by_insutype", month),
        ("b", "by_hosp_lv", {**month, "insutype": "310"}),
    ]
    bound = [(panel, get(name), get(name).bind(params)) for panel, name, params in items]
    scans, alone = shared_scan.plan(bound)
    assert scans == [] and [panel for panel, _q, _v in alone] == ["a", "b"]
