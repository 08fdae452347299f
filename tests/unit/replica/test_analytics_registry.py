"""The analytic query registry and the indicator arithmetic (analytics/, tested here with the
replica's unit tests)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from yibao.analytics import indicators
from yibao.analytics.registry import get, registry
from yibao.analytics.service import dashboard_queries
from yibao.errors import InvalidInput
from yibao.replica.schema import MEASURE_NAMES

INDICATOR_DIMS = {
    "day",
    "month",
    "region",
    "institution",
    "hosp_lv",
    "insutype",
    "med_type",
    "diagnosis",
}


def test_every_query_has_a_chinese_title_and_both_variants() -> None:
    queries = registry()
    assert {f"by_{d}" for d in INDICATOR_DIMS} <= set(queries)
    assert {"summary", "top_institutions", "settlements"} <= set(queries)
    for q in queries.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in q.title), q.name
        assert q.duckdb.startswith("SELECT")
        assert set(q.rowstore) == {"sqlite", "mysql"}
        assert all("{hint}" in sql for sql in q.rowstore.values())


def test_dashboard_queries_read_rollups_not_the_fact_table() -> None:
    for _panel, name, _params in dashboard_queries(date(2024, 6, 15)):
        sql = get(name).duckdb
        if name == "summary":
            # persons served is a distinct count: the only fact read, pruned to the period
            assert "FROM agg_day r" in sql and "COUNT(DISTINCT psn_ref)" in sql
        else:
            assert "setl_fact" not in sql, name


def test_bind_defaults_to_this_month_and_checks_input() -> None:
    q = get("by_institution")
    values = q.bind({"date_from": "2024-06-01", "date_to": "2024-06-30", "admdvs": "110101"})
    assert values["date_from"] == date(2024, 6, 1) and values["admdvs"] == "110101"
    assert values["hosp_lv"] is None
    defaulted = q.bind({})
    assert defaulted["date_from"] == defaulted["date_to"].replace(day=1)
    with pytest.raises(InvalidInput, match="date_from"):
        q.bind({"date_from": "2024-07-01", "date_to": "2024-06-01"})
    with pytest.raises(InvalidInput, match="yyyy-MM-dd"):
        q.bind({"date_from": "01/06/2024"})
    with pytest.raises(InvalidInput, match="unknown parameter"):
        q.bind({"certno": "1"})
    with pytest.raises(InvalidInput, match="malformed"):
        q.bind({"admdvs": "1' OR '1'='1"})
    with pytest.raises(InvalidInput, match="required"):
        get("settlements").bind({})
    with pytest.raises(InvalidInput, match="unknown query"):
        get("drop_table")


def _measures(**values: int | str) -> dict:
    m: dict = {name: 0 for name in MEASURE_NAMES if name in indicators.COUNTS}
    m.update({name: Decimal("0.00") for name in MEASURE_NAMES if name not in indicators.COUNTS})
    for k, v in values.items():
        m[k] = Decimal(v) if isinstance(v, str) else v
    return m


def test_indicators_follow_their_formulas_exactly() -> None:
    m = _measures(
        setl_cnt=3,
        otp_cnt=2,
        ipt_cnt=1,
        ipt_days=7,
        medfee_sumamt="1000.00",
        hifp_pay="500.00",
        fund_pay_sumamt="600.00",
        inscp_scp_amt="800.00",
        drug_sumamt="333.33",
        mcs_sumamt="100.00",
        fulamt_ownpay_amt="50.00",
        overlmt_selfpay="25.00",
    )
    got = indicators.derive(m)
    assert got["avg_fee"] == Decimal("333.33")  # 1000/3, ROUND_HALF_UP to the fen
    assert got["avg_pool"] == Decimal("166.67")
    assert got["drug_ratio"] == Decimal("0.3333")
    assert got["mcs_ratio"] == Decimal("0.1000")
    assert got["inscp_reimb_ratio"] == Decimal("0.7500")
    assert got["actual_reimb_ratio"] == Decimal("0.6000")
    assert got["selfpay_ratio"] == Decimal("0.0750")
    assert got["admission_rate"] == Decimal("0.5000")
    assert got["avg_los"] == Decimal("7.00")


def test_indicators_over_nothing_are_none() -> None:
    got = indicators.derive(_measures())
    assert got["avg_fee"] is None and got["drug_ratio"] is None and got["avg_los"] is None


def test_fen_and_decimal_rows_finish_the_same() -> None:
    cols = ["key", *MEASURE_NAMES]
    fen_row = ["310", 2, 2, 0, 0, 4, *[12345 for _ in MEASURE_NAMES[5:]]]
    dec_row = ["310", 2, 2, 0, 0, 4, *[Decimal("123.45") for _ in MEASURE_NAMES[5:]]]
    a = indicators.finish(cols, [fen_row], dim="insutype", fen=True)
    b = indicators.finish(cols, [dec_row], dim="insutype", fen=False)
    assert a == b
    assert a[0]["name"] == "职工基本医疗保险" and a[0]["medfee_sumamt"] == Decimal("123.45")


def test_funds_unpivot_names_every_fund() -> None:
    rows = indicators.funds({"hifp_pay": Decimal("1.00"), "acct_pay": Decimal("2.00")})
    assert rows[0]["fund"] == "hifp_pay"
    assert {r["name"] for r in rows} >= {"基本医疗保险统筹基金", "个人账户", "医疗救助基金"}
    assert sum(r["amount"] for r in rows) == Decimal("3.00")
