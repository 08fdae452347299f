"""The windowed post-hoc rules on a tiny replica: each finds its pattern, leaves the near-miss
alone, and anchors a hit in the period it belongs to."""

from __future__ import annotations

import dataclasses
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from posthoc_city import City

from yibao.errors import InvalidInput
from yibao.monitoring import runner, windows
from yibao.monitoring.model import Thresholds

T = Thresholds()
JAN1, JAN31 = date(2026, 1, 1), date(2026, 1, 31)


def test_split_admission_within_the_window_same_category_only() -> None:
    city = City()
    h = city.institution("H1", "hospital", "3")
    city.stay("p1", h, date(2026, 1, 2), 6)  # discharged Jan 8
    readmitted = city.stay("p1", h, date(2026, 1, 20), 5, diag="J18.000")  # 12 days later
    city.stay("p2", h, date(2026, 1, 1), 4)  # discharged Jan 5
    city.stay("p2", h, date(2026, 1, 21), 3)  # 16 days later: one day past the window
    city.stay("p3", h, date(2026, 1, 1), 4)
    city.stay("p3", h, date(2026, 1, 10), 3, diag="K35.800")  # another diagnosis
    hits = windows.split_admission(city.con, JAN1, JAN31, T)
    assert [h_.setl_id for h_ in hits] == [readmitted]
    assert hits[0].evidence["gap_days"] == 12 and hits[0].amount_fen == 600000


def test_same_day_at_two_institutions_and_two_places_at_once() -> None:
    city = City()
    a, b = city.institution("C1"), city.institution("C2")
    city.visit("p1", a, datetime(2026, 1, 5, 9, 0))
    second = city.visit("p1", b, datetime(2026, 1, 5, 9, 30))  # 30 min later elsewhere
    city.visit("p2", a, datetime(2026, 1, 5, 9, 0))
    later = city.visit("p2", b, datetime(2026, 1, 5, 15, 0))  # same day, hours apart
    city.visit("p3", a, datetime(2026, 1, 5, 9, 0))
    city.visit("p3", a, datetime(2026, 1, 5, 10, 0))  # twice at one clinic: not this rule
    hits = windows.same_day_visits(city.con, JAN1, JAN31, T)
    assert sorted((h_.category, h_.setl_id) for h_ in hits) == sorted(
        [("same_day_multi_visit", second), ("card_misuse", second), ("same_day_multi_visit", later)]
    )


def test_frequent_visits_one_hit_per_window_and_the_near_miss() -> None:
    city = City()
    c = city.institution("C1")
    for d in range(1, 9):  # 8 visits in 8 days
        city.visit("p1", c, datetime(2026, 1, d * 3, 10))
    for d in range(1, 8):  # 7 visits: at the limit
        city.visit("p2", c, datetime(2026, 1, d * 3, 10))
    hits = windows.frequent_visits(city.con, JAN1, JAN31, T)
    assert [(h_.psn_ref, h_.evidence["visits"]) for h_ in hits] == [("p1", 8)]
    assert hits[0].key == "p1|2026-01-03"


def test_outpatient_strictly_inside_a_stay() -> None:
    city = City()
    h, c = city.institution("H1", "hospital", "3"), city.institution("C1")
    city.stay("p1", h, date(2026, 1, 10), 6)  # Jan 10 – Jan 16
    inside = city.visit("p1", c, datetime(2026, 1, 12, 10))
    city.visit("p1", c, datetime(2026, 1, 16, 15))  # the discharge day: not inside
    city.visit("p1", c, datetime(2026, 1, 10, 8))  # the admission day: not inside
    hits = windows.outpatient_during_stay(city.con, JAN1, JAN31, T)
    assert [h_.setl_id for h_ in hits] == [inside]


def test_stay_outliers_against_the_group_and_outpatient_diagnoses() -> None:
    city = City()
    h = city.institution("H1", "hospital", "3")
    for i in range(20):
        city.stay(f"q{i}", h, date(2026, 1, 1 + i % 10), 5 + i % 4)  # 5–8 days
    long_one = city.stay("p1", h, date(2026, 1, 2), 25)
    cold = city.stay("p2", h, date(2026, 1, 3), 2, diag="J06.900")
    city.stay("p3", h, date(2026, 1, 3), 6, diag="J06.900")  # a longer stay: not low-threshold
    hits = windows.stay_outliers(
        city.con, JAN1, JAN31, dataclasses.replace(T, outpatient_diagnoses=("J06",))
    )
    found = sorted((h_.category, h_.setl_id) for h_ in hits)
    assert found == sorted([("los_outlier", long_one), ("low_threshold_admission", cold)])


def test_reversed_settlements_are_not_evidence() -> None:
    city = City()
    a, b = city.institution("C1"), city.institution("C2")
    city.visit("p1", a, datetime(2026, 1, 5, 9, 0))
    city.visit("p1", b, datetime(2026, 1, 5, 9, 30), valid=False)
    assert windows.same_day_visits(city.con, JAN1, JAN31, T) == []


def test_a_backwards_period_is_refused() -> None:
    with pytest.raises(InvalidInput, match="since/until"):
        runner.run(City().con, JAN31, JAN1)


def test_a_rerun_finds_the_same_hits_with_the_same_ids() -> None:
    city = City()
    h = city.institution("H1", "hospital", "3")
    city.stay("p1", h, date(2026, 1, 2), 6)
    city.stay("p1", h, date(2026, 1, 20), 5)
    first = runner.run(city.con, JAN1, JAN31)
    again = runner.run(city.con, JAN1, JAN31)
    assert [h_.hit_id for h_ in first] == [h_.hit_id for h_ in again] and first
