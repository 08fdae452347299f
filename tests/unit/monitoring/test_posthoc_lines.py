"""The post-hoc rules over the settled fee lines (`fee_fact`) and the dates of death
(`psn_dim`): each finds its pattern, leaves the near-miss alone, names the line it is about
and anchors a hit in the period of its settlement."""

from __future__ import annotations

import sys
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from line_city import BED, DRUG, EXAM, LineCity, line

from yibao.monitoring import lines, runner, windows
from yibao.monitoring.model import Thresholds

T = Thresholds()
JAN1, JAN31 = date(2026, 1, 1), date(2026, 1, 31)


def _at(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour))


def test_bed_hogging_three_bed_only_days_in_a_row_not_two() -> None:
    city = LineCity()
    hogged, _m = city.stay("p1", date(2026, 1, 2), 8, bed_only_last=3)
    city.stay("p2", date(2026, 1, 2), 8, bed_only_last=2)  # the near-miss
    city.stay("p3", date(2026, 1, 2), 8)
    hits = lines.bed_hogging(city.cur, JAN1, JAN31, T)
    assert [h.setl_id for h in hits] == [hogged]
    ev = hits[0].evidence
    assert (ev["first_day"], ev["last_day"], ev["bed_only_days"]) == (
        "2026-01-07",
        "2026-01-09",
        3,
    )
    assert hits[0].psn_ref == city.ref("p1") and hits[0].unit == "visit"
    # the bed and nursing fees of the idle days are at stake: 3 days × 2 lines × 10.00
    assert hits[0].amount_fen == 6000


def test_bed_hogging_counts_consecutive_days_only_and_follows_the_rule_s_days() -> None:
    city = LineCity()
    # bed-only on days 2 and 4: two single days, never a run
    stay = [
        *(line(_at(date(2026, 1, d), 8), BED, "BED") for d in range(1, 6)),
        *(line(_at(date(2026, 1, d), 8), DRUG, "D") for d in (1, 3, 5)),
    ]
    city.settle("p1", stay, begin=_at(date(2026, 1, 1)), end=_at(date(2026, 1, 6)), med_type="21")
    assert lines.bed_hogging(city.cur, JAN1, JAN31, T) == []
    two, _m = city.stay("p2", date(2026, 1, 2), 6, bed_only_last=2)
    hits = lines.bed_hogging(city.cur, JAN1, JAN31, Thresholds(bed_only_days=2))
    assert [h.setl_id for h in hits] == [two]


def test_a_charge_after_discharge_is_fabricated_one_on_the_discharge_day_is_not() -> None:
    city = LineCity()
    exam_after = line(_at(date(2026, 1, 12)), EXAM, "US")
    setl_id, mdtrt_id = city.stay("p1", date(2026, 1, 2), 8, extra=[exam_after])
    city.stay("p2", date(2026, 1, 2), 8, extra=[line(_at(date(2026, 1, 10), 8), EXAM, "US")])
    hits = lines.fabricated_service(city.cur, JAN1, JAN31, T)
    assert [(h.setl_id, h.mdtrt_id) for h in hits] == [(setl_id, mdtrt_id)]
    hit = hits[0]
    assert hit.unit == "line" and hit.feedetl_sn == "033"  # 8 days × 4 lines, then the exam
    assert hit.evidence["after"] == "discharge" and hit.evidence["boundary"] == "2026-01-10"
    assert hit.amount_fen == 1000


def test_after_death_a_visit_is_card_misuse_and_a_later_charge_of_an_earlier_stay_fabricated() -> (
    None
):
    city = LineCity()
    city.person("dead", death=date(2026, 1, 8))
    city.person("alive")
    stay, _m = city.stay("dead", date(2026, 1, 2), 8)  # admitted before, discharged after death
    after, _m2 = city.settle(
        "dead", [line(_at(date(2026, 1, 15)), DRUG, "D")], begin=_at(date(2026, 1, 15))
    )
    city.settle("alive", [line(_at(date(2026, 1, 15)), DRUG, "D")], begin=_at(date(2026, 1, 15)))
    misuse = windows.after_death(city.cur, JAN1, JAN31, T)
    assert [(h.setl_id, h.rule_id) for h in misuse] == [(after, "POST-AFTER-DEATH")]
    assert misuse[0].evidence["days_after_death"] == 7 and misuse[0].psn_ref == city.ref("dead")
    fabricated = lines.fabricated_service(city.cur, JAN1, JAN31, T)
    # the stay's lines of Jan 9 (4 lines); the visit begun after death is not fabricated
    assert {h.setl_id for h in fabricated} == {stay}
    assert len(fabricated) == 4 and {h.evidence["after"] for h in fabricated} == {"death"}
    assert {h.result_type for h in fabricated} == {"violation"}


def test_frequency_limits_per_day_per_admission_and_per_year() -> None:
    city = LineCity()
    limits = Thresholds(
        frequency_limits=(
            ("BED", Decimal(1), None, None),
            ("PT", None, Decimal(5), None),
            ("SCAN", None, None, Decimal(2)),
        )
    )
    twice = [line(_at(date(2026, 1, 3), 8), BED, "BED", cnt="2")]
    once = [line(_at(date(2026, 1, 4), 8), BED, "BED")]
    day_setl, _m = city.settle(
        "p1", [*twice, *once], begin=_at(date(2026, 1, 3)), end=_at(date(2026, 1, 5)), med_type="21"
    )
    pt = [line(_at(date(2026, 1, d), 9), "05", "PT", cnt="2") for d in (6, 7, 8)]
    adm_setl, _m = city.settle(
        "p2", pt, begin=_at(date(2026, 1, 6)), end=_at(date(2026, 1, 9)), med_type="21"
    )
    scans = [
        city.settle("p3", [line(_at(date(2026, 1, d)), EXAM, "SCAN")], begin=_at(date(2026, 1, d)))[
            0
        ]
        for d in (5, 12, 19)
    ]
    hits = lines.frequency_limit(city.cur, JAN1, JAN31, limits)
    found = sorted((h.setl_id, h.feedetl_sn, h.evidence["per"]) for h in hits)
    assert found == sorted(
        [(day_setl, "001", "day"), (adm_setl, "003", "admission"), (scans[2], "001", "year")]
    )
    # the year counts from January: a run over the last week alone still sees the earlier scans
    later = lines.frequency_limit(city.cur, date(2026, 1, 15), JAN31, limits)
    assert [(h.setl_id, h.evidence["found"]) for h in later] == [(scans[2], "3")]
    assert lines.frequency_limit(city.cur, JAN1, JAN31, T) == []  # no limits, no hits


def test_repeat_prescription_while_more_than_the_grace_days_of_supply_remain() -> None:
    city = LineCity()
    t = Thresholds(holding_grace_days=3, holding_default_days=7)

    def dispense(psn: str, d: int, days: int | None, code: str = "MET") -> str:
        when = _at(date(2026, 1, d))
        return city.settle(psn, [line(when, DRUG, code, days=days)], begin=when)[0]

    dispense("p1", 1, 30)  # supply until Jan 31
    early = dispense("p1", 10, 30)  # 21 days left: a repeat
    dispense("p2", 1, 30)
    dispense("p2", 28, 30)  # 3 days left: within the grace
    dispense("p3", 1, None)  # no prd_days: 7 days assumed, until Jan 8
    default = dispense("p3", 3, 7)  # 5 days left
    dispense("p4", 1, 30)
    dispense("p4", 10, 30, code="OTHER")  # another drug
    city.stay("p5", date(2026, 1, 2), 6)  # a ward's daily drug is not a holding
    city.stay("p5", date(2026, 1, 20), 3)
    hits = lines.repeat_prescription(city.cur, JAN1, JAN31, t)
    assert sorted(h.setl_id for h in hits) == sorted([early, default])
    by = {h.setl_id: h for h in hits}
    assert by[early].evidence["days_left"] == 21 and by[early].feedetl_sn == "001"
    assert by[default].evidence["held_until"] == "2026-01-08"


def test_a_run_anchors_line_hits_on_their_settlement_day_and_lists_the_new_detectors() -> None:
    city = LineCity()
    hogged, _m = city.stay("p1", date(2026, 1, 20), 8, bed_only_last=3)  # settled Jan 28
    assert lines.bed_hogging(city.cur, JAN1, date(2026, 1, 27), T) == []
    assert [h.setl_id for h in lines.bed_hogging(city.cur, date(2026, 1, 28), JAN31, T)] == [hogged]
    names = [s.name for s in runner.STEPS]
    for name in ("bed_hogging", "fabricated_service", "frequency_limit", "repeat_prescription"):
        assert name in names
    assert runner.POST_RULES["POST-AFTER-DEATH"] == "card_misuse"
    hits = runner.run(city.cur, JAN1, JAN31, T, rule_ids=frozenset({"POST-BED-HOGGING"}))
    assert [h.rule_id for h in hits] == ["POST-BED-HOGGING"]


def test_a_long_period_reads_everything_and_finds_what_the_short_runs_find() -> None:
    """Over a period longer than the look-back the rules read every line instead of the
    period's persons and visits first: the same hits either way."""
    city = LineCity()
    limits = Thresholds(frequency_limits=(("SCAN", None, None, Decimal(1)),))
    for d in (5, 12):
        when = _at(date(2026, 1, d))
        city.settle("p1", [line(when, EXAM, "SCAN"), line(when, DRUG, "MET", days=30)], begin=when)
    long_since = date(2025, 6, 1)
    for rule in (lines.frequency_limit, lines.repeat_prescription):
        short = rule(city.cur, JAN1, JAN31, limits)
        assert short and [h.key for h in rule(city.cur, long_since, JAN31, limits)] == [
            h.key for h in short
        ]


def test_a_day_s_count_takes_the_stay_s_interim_settlement_in() -> None:
    """A stay settled twice (an interim settlement, then the final one): the bed billed on
    Jan 3 in both makes that day's count 2; a run over the final settlement's day alone
    still counts the interim settlement's line, and names only the line it settled."""
    city = LineCity()
    limits = Thresholds(frequency_limits=(("BED", Decimal(1), None, None),))
    bed = line(_at(date(2026, 1, 3), 8), BED, "BED")
    first, visit = city.settle(
        "p1", [bed], begin=_at(date(2026, 1, 2)), end=_at(date(2026, 1, 4)), med_type="21"
    )
    final, _m = city.settle(
        "p1", [bed], begin=_at(date(2026, 1, 2)), end=_at(date(2026, 1, 6)), med_type="21",
        visit=visit,
    )  # fmt: skip
    assert sorted(h.setl_id for h in lines.frequency_limit(city.cur, JAN1, JAN31, limits)) == [
        first,
        final,
    ]
    day6 = date(2026, 1, 6)
    assert [h.setl_id for h in lines.frequency_limit(city.cur, day6, day6, limits)] == [final]
