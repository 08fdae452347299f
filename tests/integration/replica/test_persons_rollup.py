"""Persons served from the persons-served rollup (`replica.persons`) equal the row store's
distinct count, for ranges inside a year, across years and on single days — applied batch by
batch by the applier (including a reversal that leaves a person unserved), and after the
rollups are rebuilt from the fact table."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import factories
import pytest
from sqlalchemy import Engine

from yibao.analytics.registry import registry
from yibao.analytics.service import Analytics
from yibao.replica import persons
from yibao.replica.service import Replica

# ranges under a month count on the fact table (registry.FACT_DAYS), longer ones on the rollup
RANGES = [
    ("2024-06-03", "2024-06-03"),
    ("2024-06-01", "2024-06-30"),
    ("2024-12-25", "2025-01-05"),
    ("2024-12-01", "2025-01-31"),
    ("2024-06-04", "2024-06-05"),
    ("2024-05-01", "2024-06-30"),
    ("2024-01-01", "2024-12-31"),
    ("2024-12-31", "2025-01-01"),
    ("2024-02-29", "2024-03-01"),
    ("2023-01-01", "2025-12-31"),
    ("2025-01-02", "2025-03-31"),
]


def _add_year_boundary(engine: Engine, seeded: dict) -> None:
    employee = seeded["employee"]["psn_no"]
    resident = seeded["resident"]["psn_no"]
    with engine.begin() as conn:
        # psn_no forms: a canonical integer below 2^64 (psn_key set), a leading zero and one
        # above 2^64 (psn_key NULL, counted on the text) besides the factories' "P…"
        other = factories.person(conn, "11000100000000000042")["psn_no"]
        for odd in ("01000100000000000042", "99999999999999999999"):
            factories.person(conn, odd)
            # 2025-03-31 is an open day (counted from the facts, anti-joined on the text)
            for at in (datetime(2024, 6, 10, 9), datetime(2024, 12, 30, 9), datetime(2025, 3, 31)):
                factories.settlement(conn, fixmedins_code="H11010100001", psn_no=odd, setl_time=at)
        for psn, at in (
            (employee, datetime(2024, 12, 31, 23, 10)),
            (resident, datetime(2025, 1, 1, 0, 5)),
            (other, datetime(2024, 2, 29, 9)),  # day index 59 of a leap year
            (other, datetime(2024, 12, 31, 8)),  # day index 365: the last bit of word 5
            (other, datetime(2025, 3, 31, 8)),
        ):
            factories.settlement(conn, fixmedins_code="H11010100001", psn_no=psn, setl_time=at)
        late = factories.settlement(
            conn,
            fixmedins_code="H11010200002",
            psn_no=other,
            medfee=Decimal("10.00"),
            setl_time=datetime(2025, 1, 2, 10),
        )
    with engine.begin() as conn:
        # reversed on another day: `other` is no longer served on 2025-01-02
        factories.reverse(conn, late["setl_id"], at=datetime(2025, 1, 3, 9))


def _assert_equal(analytics: Analytics) -> None:
    # every query: the day rollups (appended per batch, compacted when a day is sealed) too
    for name in registry():
        params = {"date_from": "2024-01-01", "date_to": "2025-12-31"}
        if name == "settlements":
            params["fixmedins_code"] = "H11010100001"
        assert (
            analytics.run_on_replica(name, params).data
            == analytics.run_on_rowstore(name, params).data
        ), name
    for date_from, date_to in RANGES:
        params = {"date_from": date_from, "date_to": date_to}
        on_replica = analytics.run_on_replica("summary", params).data
        on_rows = analytics.run_on_rowstore("summary", params).data
        assert on_replica == on_rows, params
        # with a filter the count reads the fact table: the same answer again
        filtered = {**params, "visit_kind": "outpatient"}
        assert (
            analytics.run_on_replica("summary", filtered).data
            == analytics.run_on_rowstore("summary", filtered).data
        ), filtered


def _open_from(replica: Replica) -> date | None:
    return replica.store.query(f"SELECT open_from FROM {persons.OPEN}")[2][0][0]


def _assert_rollup_matches_facts(replica: Replica) -> None:
    from_rollup, from_facts = persons.check_sql()
    assert replica.store.query(from_rollup)[2] == replica.store.query(from_facts)[2]


@pytest.mark.parametrize("batch_rows", [1, 5000])
def test_persons_served_equal_the_row_store(
    rs_settings, rs_engine: Engine, seeded: dict, batch_rows: int
) -> None:
    _add_year_boundary(rs_engine, seeded)
    replica = Replica.open(rs_settings)
    try:
        replica.applier.batch_rows = batch_rows  # 1: every change its own micro-batch
        replica.applier.catch_up()
        assert replica.applier.stats.batches > (10 if batch_rows == 1 else 0)
        analytics = Analytics(rowstore=replica.source, replica=replica)
        _assert_equal(analytics)
        _assert_rollup_matches_facts(replica)
        # every day but the last two is in the rollup: the 2024-02-29 and reversed 2025-01-02
        # settlements reached days already sealed
        assert _open_from(replica) == date(2025, 3, 30)
        day = analytics.run_on_replica(
            "summary", {"date_from": "2025-01-02", "date_to": "2025-01-02"}
        )
        assert day.data[0]["psn_cnt"] == 0  # the only settlement that day was reversed
        # the rollups rebuilt from the facts give the same answers
        replica.store.refresh_rollups()
        assert _open_from(replica) == date(2025, 3, 31)  # a rebuild leaves the last day open
        _assert_equal(analytics)
        replica.store.refresh_rollups({"2025-01-02", "2024-12-31"})
        _assert_equal(analytics)
        _assert_rollup_matches_facts(replica)
    finally:
        replica.close()


def test_persons_served_after_a_rebuild_from_the_tables(
    rs_settings, rs_engine: Engine, seeded: dict
) -> None:
    _add_year_boundary(rs_engine, seeded)
    replica = Replica.open(rs_settings)
    try:
        replica.rebuild("tables")
        _assert_equal(Analytics(rowstore=replica.source, replica=replica))
        _assert_rollup_matches_facts(replica)
    finally:
        replica.close()


def test_masks() -> None:
    assert persons.mask_words(0, 0) == (1, 0, 0, 0, 0, 0)
    assert persons.mask_words(63, 64) == (1 << 63, 1, 0, 0, 0, 0)
    assert persons.mask_words(0, 365)[5] == (1 << 46) - 1
    assert persons.mask_words(5, 4) == (0,) * 6
    masks = persons.range_masks(datetime(2024, 12, 31).date(), datetime(2026, 1, 1).date())
    assert sorted(masks) == [2024, 2025, 2026]
    assert masks[2024] == persons.mask_words(365, 365)
    assert masks[2025] == persons.mask_words(0, 365)
    assert masks[2026] == persons.mask_words(0, 0)
