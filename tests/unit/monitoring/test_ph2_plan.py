"""One place for post-hoc thresholds: the rule base's post rules (stage post, the ids the
detectors write), the knowledge base's `windows` rows winning; a disabled rule drops its
category; the scheduled run's next time."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

import pytest

from yibao.errors import InvalidInput
from yibao.monitoring.plan import RULE_IDS, check_categories, plan
from yibao.monitoring.runner import CATEGORIES
from yibao.review.posthoc import next_run
from yibao.risk.kb import EMPTY_KB, FrequencyLimit, KnowledgeBase, Window
from yibao.risk.params_io import load_ruleset, ruleset_from_texts

DAY = date(2026, 3, 1)
RULES = load_ruleset()


def _window(key: str, days: int | None, threshold: str | None = None) -> Window:
    return Window(
        begndate=date(2020, 1, 1),
        enddate=None,
        window_key=key,
        days=days,
        threshold=Decimal(threshold) if threshold else None,
    )


def test_every_post_category_has_a_packaged_post_rule_under_its_detector_s_id() -> None:
    for rule_id, category in RULE_IDS.items():
        rule = RULES.by_id(rule_id)
        assert rule is not None and rule.category == category, rule_id
        assert rule.stages == ("post",) and rule.enabled
    p = plan(RULES, EMPTY_KB, DAY)
    assert p.categories == set(CATEGORIES)
    assert p.rules["POST-BENFORD"].category == "benford"
    assert p.rule_ids == set(RULE_IDS)
    assert p.thresholds.peer_levels == ("institution", "department", "doctor")
    # a region turning departments and doctors off compares institutions only
    off = {"POST-PEER-DEPARTMENT", "POST-PEER-DOCTOR"}
    institutions = dataclasses.replace(
        RULES,
        rules=tuple(
            dataclasses.replace(r, enabled=False) if r.rule_id in off else r for r in RULES.rules
        ),
    )
    assert plan(institutions, EMPTY_KB, DAY).thresholds.peer_levels == ("institution",)
    # card misuse has two post rules: two places at once, and a visit after death
    assert {r for r, c in RULE_IDS.items() if c == "card_misuse"} == {
        "POST-TWO-PLACES",
        "POST-AFTER-DEATH",
    }


def test_defaults_come_from_the_rules() -> None:
    t = plan(RULES, EMPTY_KB, DAY).thresholds
    assert (t.readmission_days, t.frequent_days, t.frequent_visits) == (15, 30, 10)
    assert (t.same_place_minutes, t.los_ratio, t.benford_mad) == (60, 2.0, 0.015)
    assert (t.robust_z, t.min_ratio, t.min_share_gap, t.benford_z) == (6.0, 1.5, 0.05, 3.5)
    assert (t.winsor, t.drop_costliest) == (0.995, 2)
    assert (t.group_min_days, t.group_min_size, t.low_stay_days) == (3, 4, 3)
    assert (t.bed_only_days, t.holding_grace_days, t.holding_default_days) == (3, 3, 7)
    assert t.outpatient_diagnoses[:2] == ("J06", "K29") and t.frequency_limits == ()


def test_the_windows_table_wins_over_the_rules() -> None:
    kb = KnowledgeBase(
        windows=(
            _window("readmission", 30),
            _window("frequent_visits", 14, "5"),
            _window("same_place", None, "45"),
            _window("los_outlier", None, "3.5"),
            _window("bed_only", 4),
            _window("holding", 7),
        ),
        frequency_limits=(
            FrequencyLimit(date(2020, 1, 1), None, "BED", Decimal(1), None, None),
            FrequencyLimit(date(2020, 1, 1), date(2021, 1, 1), "OLD", Decimal(1), None, None),
        ),
    )
    t = plan(RULES, kb, DAY).thresholds
    assert (t.readmission_days, t.frequent_days, t.frequent_visits) == (30, 14, 5)
    assert (t.same_place_minutes, t.los_ratio) == (45, 3.5)
    assert (t.bed_only_days, t.holding_grace_days) == (4, 7)
    # the frequency limits valid on the run's last day
    assert t.frequency_limits == (("BED", Decimal(1), None, None),)


REGION = """
[ruleset]
admdvs = "110199"
version = "2026.1"
begndate = 2023-01-01

[[rule]]
id = "POST-SPLIT-ADMISSION"
category = "split_admission"
result_type = "suspicious"
action = "warn"
stages = ["post"]
[rule.params]
days = 7

[[rule]]
id = "POST-BENFORD"
category = "benford"
result_type = "suspicious"
action = "warn"
enabled = false
[rule.params]
mad = 0.02
"""


def test_a_region_tunes_and_disables_post_rules() -> None:
    p = plan(ruleset_from_texts(REGION), EMPTY_KB, DAY)
    assert p.categories == {"split_admission"}
    assert p.thresholds.readmission_days == 7
    assert p.rules["POST-SPLIT-ADMISSION"].version == "2026.1"


def test_asked_categories_are_checked_and_name_the_field() -> None:
    assert check_categories(["benford, los_outlier", "card_misuse"]) == {
        "benford",
        "los_outlier",
        "card_misuse",
    }
    with pytest.raises(InvalidInput, match="category"):
        check_categories(["benfrod"])
    with pytest.raises(InvalidInput, match="no post-hoc detector or re-run"):
        check_categories(["item_substitution"])
    assert plan(RULES, EMPTY_KB, DAY, frozenset({"benford"})).categories == {"benford"}


def test_next_scheduled_run() -> None:
    assert next_run(datetime(2026, 3, 1, 1, 0), "02:30") == datetime(2026, 3, 1, 2, 30)
    assert next_run(datetime(2026, 3, 1, 2, 30), "02:30") == datetime(2026, 3, 2, 2, 30)
    assert next_run(datetime(2026, 12, 31, 23, 0), "00:15") == datetime(2027, 1, 1, 0, 15)


@pytest.mark.parametrize(
    ("key", "value"),
    [("winsor", Decimal("0.2")), ("winsor", Decimal("1.5")), ("drop_costliest", 50)],
)
def test_a_peer_parameter_out_of_range_is_refused_naming_it(key: str, value: object) -> None:
    rules = dataclasses.replace(
        RULES,
        rules=tuple(
            dataclasses.replace(r, params={**r.params, key: value})
            if r.rule_id == "POST-PEER-OUTLIER"
            else r
            for r in RULES.rules
        ),
    )
    with pytest.raises(InvalidInput, match=f"POST-PEER-OUTLIER.{key}"):
        plan(rules, EMPTY_KB, DAY)
