"""The pure rules of the review: each category fires on its case and stays quiet on the
near-miss beside it (the right sex, a quantity at the limit, a readmission one day past the
window …)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from yibao.risk import Bill, History, Institution, KnowledgeBase, Line, Person, Visit, review
from yibao.risk.kb import (
    BundlePart,
    ConsumableLink,
    DrugLimit,
    FrequencyLimit,
    ItemPair,
    PriceLimit,
    Window,
)
from yibao.risk.model import ItemLimits, PastLine, PastVisit
from yibao.risk.params_io import RuleFileError, load_ruleset, parse_rules
from yibao.risk.registry import CATEGORIES, LOGICS

RULES = load_ruleset()
T0 = datetime(2025, 3, 10, 9, 0)
D0 = date(2023, 1, 1)


def line(code: str = "X1", *, sn: str = "1", cnt: str = "1", pric: str = "10", when: datetime = T0,
         list_type: str | None = "101", limits: ItemLimits = ItemLimits(),
         prd_days: str | None = None, appr: str | None = None) -> Line:  # fmt: skip
    c, p = Decimal(cnt), Decimal(pric)
    return Line(
        line_id=sn,
        hilist_code=code,
        hilist_name=f"项目{code}",
        cnt=c,
        pric=p,
        amount=c * p,
        fee_ocur_time=when,
        list_type=list_type,
        limits=limits,
        prd_days=Decimal(prd_days) if prd_days else None,
        hosp_appr_flag=appr,
    )


def bill(*lines: Line, scene: str = "outpatient", gend: str = "1", age: int = 40,
         death: date | None = None, lv: str = "3", med_type: str = "11",
         diags: tuple[str, ...] = ("I10.x00",), begn: datetime = T0,
         visit_lines: tuple[Line, ...] = (), mdtrt_id: str = "M1") -> Bill:  # fmt: skip
    return Bill(
        visit=Visit(
            mdtrt_id, scene, med_type, begn, diag_codes=diags, main_diag=diags[0] if diags else None
        ),  # type: ignore[arg-type]
        person=Person("P1", gend, age, death),
        institution=Institution("H11010200001", lv, "110102", pharmacy=scene == "pharmacy"),
        lines=tuple(lines),
        visit_lines=visit_lines,
    )


def cats(b: Bill, history: History = History(), kb: KnowledgeBase = KnowledgeBase(),
         stage: str = "mid") -> list[str]:  # fmt: skip
    return [h.category for h in review(stage, b, history, kb, RULES)]  # type: ignore[arg-type]


def test_the_registry_knows_all_28_categories() -> None:
    assert len(CATEGORIES) == 28
    assert {"gender_limit", "benford", "peer_outlier", "card_misuse"} <= set(CATEGORIES)
    for key, logic in LOGICS.items():
        assert logic.category == key
        # a post-only category's entry carries its parameters; the replica judges it
        # (risk.posthoc, yibao.monitoring), never one bill
        post_only = CATEGORIES[key].stages == ("post",)
        assert (CATEGORIES[key].judged_at is None) == post_only, key


def test_gender_limit_fires_on_the_other_sex_only() -> None:
    female_only = ItemLimits(gend="2")
    hits = review(
        "mid", bill(line(limits=female_only), gend="1"), History(), KnowledgeBase(), RULES
    )
    assert [h.category for h in hits] == ["gender_limit"]
    hit = hits[0]
    assert hit.rule_id == "GEND-01" and hit.action == "selfpay" and hit.line_ids == ("1",)
    assert hit.amount == Decimal(10)
    assert hit.warn_line.startswith("GEND-01 限性别用药/诊疗: ")
    assert cats(bill(line(limits=female_only), gend="2")) == []


def test_child_only_and_age_limit_do_not_overlap() -> None:
    child = ItemLimits(age_max=14)
    assert cats(bill(line(limits=child), age=14)) == ["child_only"]
    assert cats(bill(line(limits=child), age=13)) == []
    assert cats(bill(line(limits=ItemLimits(child_drug=True)), age=30)) == ["child_only"]
    assert cats(bill(line(limits=ItemLimits(age_min=60)), age=59)) == ["age_limit"]
    assert cats(bill(line(limits=ItemLimits(age_min=60)), age=60)) == []
    assert cats(bill(line(limits=ItemLimits(age_max=65)), age=70)) == ["age_limit"]


def test_level_indication_and_med_type_limits() -> None:
    assert cats(bill(line(limits=ItemLimits(hosp_lv=frozenset({"3"}))), lv="1")) == [
        "hosp_lv_limit"
    ]
    assert cats(bill(line(limits=ItemLimits(hosp_lv=frozenset({"3"}))), lv="3")) == []
    ind = ItemLimits(diag_codes=("E11",))
    assert cats(bill(line(limits=ind), diags=("I10",))) == ["indication_limit"]
    assert cats(bill(line(limits=ind), diags=("E11.900",))) == []
    ipt = ItemLimits(med_type=frozenset({"ipt"}))
    assert cats(bill(line(limits=ipt), med_type="11")) == ["med_type_limit"]
    assert cats(bill(line(limits=ipt), med_type="21", scene="inpatient")) == []


def test_indication_limit_does_not_take_an_approval_for_a_diagnosis(tmp_path: Path) -> None:
    """domain.md §2.2: a restricted item without a qualifying diagnosis is suspicious even
    when the hospital marked it approved (审批通过: what the fund pays on is the claim the
    rule checks); a line the hospital itself billed as self-pay (审批不通过, 2) puts nothing
    on the fund. Any of the visit's diagnoses qualifies."""
    ind = ItemLimits(diag_codes=("E11",))
    approved = line(limits=ind, appr="1")
    hits = review("mid", bill(approved, diags=("I10",)), History(), KnowledgeBase(), RULES)
    assert [h.category for h in hits] == ["indication_limit"]
    assert "审批通过" in hits[0].reason and hits[0].value == "I10"
    assert cats(bill(line(limits=ind, appr="0"), diags=("I10",))) == ["indication_limit"]
    assert cats(bill(line(limits=ind), diags=("I10",))) == ["indication_limit"]
    assert cats(bill(line(limits=ind, appr="2"), diags=("I10",))) == []
    assert cats(bill(approved, diags=("E11.900",))) == []
    assert cats(bill(approved, diags=("I10.x00", "E11.900"))) == []
    # a region that takes its hospitals' approvals at their word says so
    (tmp_path / "risk").mkdir()
    (tmp_path / "risk" / "local.toml").write_text(
        BASE + 'covers = ["1101"]\n[[rule]]\nid="INDC-01"\ncategory="indication_limit"\n'
        'result_type="suspicious"\naction="selfpay"\n[rule.params]\naccept_approval=true\n',
        encoding="utf-8",
    )
    trusting = load_ruleset([tmp_path])
    found = review("mid", bill(approved, diags=("I10",)), History(), KnowledgeBase(), trusting)
    assert found == []
    unapproved = bill(line(limits=ind, appr="0"), diags=("I10",))
    found = review("mid", unapproved, History(), KnowledgeBase(), trusting)
    assert [h.category for h in found] == ["indication_limit"]


def test_over_quantity_at_and_past_the_limit() -> None:
    lim = ItemLimits(max_cnt=Decimal(3))
    assert cats(bill(line(cnt="3", limits=lim))) == []
    assert cats(bill(line(cnt="4", limits=lim))) == ["over_quantity"]
    kb = KnowledgeBase(drug_limits=(DrugLimit(D0, None, "X1", Decimal(7), Decimal(2)),))
    assert cats(bill(line(cnt="14", prd_days="7")), kb=kb) == []
    assert cats(bill(line(cnt="14", prd_days="8")), kb=kb) == ["over_quantity"]
    assert cats(bill(line(cnt="15", prd_days="7")), kb=kb) == ["over_quantity"]


def test_over_price_counts_the_excess() -> None:
    kb = KnowledgeBase(price_limits=(PriceLimit(D0, None, "S1", "*", Decimal(20)),))
    hits = review(
        "mid", bill(line("S1", cnt="2", pric="25", list_type="201")), History(), kb, RULES
    )
    assert [h.category for h in hits] == ["over_price"] and hits[0].amount == Decimal("10.00")
    assert cats(bill(line("S1", pric="20", list_type="201")), kb=kb) == []


def test_duplicate_charge_pairs_and_twins() -> None:
    kb = KnowledgeBase(item_pairs=(ItemPair(D0, None, "A", "B", "includes"),))
    assert cats(
        bill(line("A", sn="1", list_type="201"), line("B", sn="2", list_type="201")), kb=kb
    ) == ["duplicate_charge"]
    other_day = datetime(2025, 3, 11, 9)
    assert (
        cats(
            bill(
                line("A", sn="1", list_type="201"),
                line("B", sn="2", list_type="201", when=other_day),
            ),
            kb=kb,
        )
        == []
    )
    twin = (line("C", sn="1", list_type="201"), line("C", sn="2", list_type="201"))
    assert cats(bill(*twin)) == ["duplicate_charge"]
    later = line("C", sn="2", list_type="201", when=datetime(2025, 3, 10, 15))
    assert cats(bill(line("C", sn="1", list_type="201"), later)) == []
    # the earlier line came with an earlier upload
    assert cats(bill(twin[1], visit_lines=(twin[0],))) == ["duplicate_charge"]


def test_split_charge_needs_enough_parts_without_the_bundle() -> None:
    parts = tuple(BundlePart(D0, None, "PKG", "套餐", c, 2) for c in ("P1", "P2", "P3"))
    kb = KnowledgeBase(bundles=parts)
    two = (line("P1", sn="1", list_type="201"), line("P2", sn="2", list_type="201"))
    assert cats(bill(*two), kb=kb) == ["split_charge"]
    assert cats(bill(two[0]), kb=kb) == []
    assert cats(bill(*two, line("PKG", sn="3", list_type="201")), kb=kb) == []


def test_frequency_limit_per_day_and_year() -> None:
    kb = KnowledgeBase(
        frequency_limits=(FrequencyLimit(D0, None, "S1", Decimal(1), None, Decimal(4)),)
    )
    assert cats(bill(line("S1", list_type="201")), kb=kb) == []
    assert cats(
        bill(
            line("S1", sn="1", list_type="201"),
            line("S1", sn="2", list_type="201", when=datetime(2025, 3, 10, 11)),
        ),
        kb=kb,
    ) == ["frequency_limit"]
    past = tuple(PastLine(f"M{i}", "S1", Decimal(1), datetime(2025, 1, i + 1)) for i in range(3))
    assert cats(bill(line("S1", list_type="201")), History(lines=past), kb) == []
    past4 = (*past, PastLine("M9", "S1", Decimal(1), datetime(2025, 2, 1)))
    assert cats(bill(line("S1", list_type="201")), History(lines=past4), kb) == ["frequency_limit"]


def test_frequency_limit_names_the_lines_of_the_day_over_it_only() -> None:
    """A once-a-day item billed daily through a stay, twice on one day: the finding names
    that day's lines, not the stay's other days (each kept to the limit)."""
    kb = KnowledgeBase(frequency_limits=(FrequencyLimit(D0, None, "S1", Decimal(1), None, None),))
    days = [datetime(2025, 3, d, 8) for d in (10, 11, 12)]
    lines = [line("S1", sn=str(n + 1), list_type="201", when=w) for n, w in enumerate(days)]
    lines.append(line("S1", sn="4", list_type="201", when=datetime(2025, 3, 11, 15)))
    stay = bill(*lines, scene="inpatient", med_type="21")
    hits = review("mid", stay, History(), kb, RULES)
    assert [(h.category, h.line_ids) for h in hits] == [("frequency_limit", ("2", "4"))]
    assert hits[0].amount == Decimal(20) and hits[0].value == "2"
    assert "2025-03-11" in hits[0].reason
    # one line of quantity 2 on a day is that line alone
    double = [lines[0], line("S1", sn="2", cnt="2", list_type="201", when=days[1]), lines[2]]
    found = review("mid", bill(*double, scene="inpatient", med_type="21"), History(), kb, RULES)
    assert [h.line_ids for h in found] == [("2",)]


def test_repeat_prescription_uses_the_holding_window() -> None:
    earlier = PastLine("M0", "X1", Decimal(28), datetime(2025, 3, 1), Decimal(14))
    # 14 days from 03-01 run to 03-15: on 03-10, 5 days remain (> 3 allowed)
    assert cats(bill(line(prd_days="7")), History(lines=(earlier,))) == ["repeat_prescription"]
    on_12th = datetime(2025, 3, 12, 9)
    assert (
        cats(bill(line(prd_days="7", when=on_12th), begn=on_12th), History(lines=(earlier,))) == []
    )
    kb = KnowledgeBase(windows=(Window(D0, None, "holding", 7),))
    assert cats(bill(line(prd_days="7")), History(lines=(earlier,)), kb) == []


def test_visits_history_rules() -> None:
    day = T0.date()
    here = "H11010200001"  # the bill's institution
    same_place = PastVisit("V0", here, "outpatient", "11", datetime(2025, 3, 10, 8), None)
    elsewhere = PastVisit("V1", "H1", "outpatient", "11", datetime(2025, 3, 10, 6), None)
    close_by = PastVisit("V2", "H1", "outpatient", "11", datetime(2025, 3, 10, 8, 30), None)
    # a second visit at the same institution is ordinary; at another, a second place
    assert cats(bill(line()), History(visits=(same_place,))) == []
    assert cats(bill(line()), History(visits=(elsewhere,))) == ["same_day_multi_visit"]
    # 30 minutes from another institution: 一卡两地 too (60 minutes needed)
    hits = review("mid", bill(line()), History(visits=(close_by,)), KnowledgeBase(), RULES)
    assert sorted((h.category, h.rule_id) for h in hits) == [
        ("card_misuse", "CARD-02"),
        ("same_day_multi_visit", "SDMV-01"),
    ]
    kb = KnowledgeBase(windows=(Window(D0, None, "same_place", 0, "", Decimal(20)),))
    assert cats(bill(line()), History(visits=(close_by,)), kb) == ["same_day_multi_visit"]
    stay = PastVisit("I1", "H2", "inpatient", "21", datetime(2025, 3, 8), datetime(2025, 3, 12))
    assert cats(bill(line()), History(visits=(stay,))) == ["outpatient_during_stay"]
    on_discharge = PastVisit(
        "I1", "H2", "inpatient", "21", datetime(2025, 3, 8), datetime(2025, 3, 10, 10)
    )
    assert cats(bill(line()), History(visits=(on_discharge,))) == []
    kb10 = KnowledgeBase(windows=(Window(D0, None, "frequent_visits", 30, "", Decimal(10)),))
    nine = tuple(
        PastVisit(f"N{i}", here, "outpatient", "11", datetime(2025, 2, 20 + i, 8), None)
        for i in range(9)
    )
    assert cats(bill(line()), History(visits=nine), kb10) == ["frequent_visits"]
    assert cats(bill(line()), History(visits=nine[:8]), kb10) == []
    many = tuple(
        PastVisit(f"F{i}", "H1", "outpatient", "11", datetime(2025, 2, 20 + i % 8, 8), None)
        for i in range(12)
    )
    assert cats(bill(line()), History(visits=many)) == ["frequent_visits"]
    assert cats(bill(line()), History(visits=many[:11])) == []
    assert day.isoformat() == "2025-03-10"


def test_split_admission_window_boundary() -> None:
    adm = datetime(2025, 3, 20, 9)
    inside = PastVisit("I0", "H1", "inpatient", "21", datetime(2025, 2, 20), datetime(2025, 3, 5))
    past = PastVisit("I0", "H1", "inpatient", "21", datetime(2025, 2, 20), datetime(2025, 3, 4))
    ipt = dict(scene="inpatient", med_type="21", begn=adm)
    assert cats(bill(line(when=adm), **ipt), History(visits=(inside,))) == ["split_admission"]  # type: ignore[arg-type]
    assert cats(bill(line(when=adm), **ipt), History(visits=(past,))) == []  # type: ignore[arg-type]


def test_death_date_rules() -> None:
    death = date(2025, 3, 1)
    hits = review("mid", bill(line(), death=death), History(), KnowledgeBase(), RULES)
    assert [(h.category, h.action) for h in hits] == [("card_misuse", "refuse")]
    stay = dict(scene="inpatient", med_type="21", begn=datetime(2025, 2, 20))
    assert cats(bill(line(), death=death, **stay)) == ["fabricated_service"]  # type: ignore[arg-type]
    assert cats(bill(line(when=datetime(2025, 3, 1, 8)), death=death, **stay)) == []  # type: ignore[arg-type]


def test_pharmacy_rules_and_catalog() -> None:
    ph = dict(scene="pharmacy", med_type="41")
    assert cats(bill(line(list_type="201"), **ph)) == ["pharmacy_non_drug"]  # type: ignore[arg-type]
    assert sorted(cats(bill(line(list_type=None), **ph))) == ["out_of_catalog", "pharmacy_non_drug"]  # type: ignore[arg-type]
    assert cats(bill(line(list_type="301"), **ph)) == []  # type: ignore[arg-type]
    stock = History(stock={"X1": Decimal(2)})
    assert cats(bill(line(cnt="3"), **ph), stock) == ["item_substitution"]  # type: ignore[arg-type]
    assert cats(bill(line(cnt="2"), **ph), stock) == []  # type: ignore[arg-type]
    assert cats(bill(line(cnt="3"), **ph)) == []  # type: ignore[arg-type]


def test_high_value_consumable_needs_its_procedure() -> None:
    kb = KnowledgeBase(consumable_links=(ConsumableLink(D0, None, "C1", "OP1"),))
    assert cats(bill(line("C1", list_type="301")), kb=kb) == ["high_value_consumable"]
    assert (
        cats(bill(line("C1", list_type="301"), line("OP1", sn="2", list_type="201")), kb=kb) == []
    )


def test_refund_lines_never_hit() -> None:
    refund = Line(
        "9",
        "X1",
        "x",
        Decimal(-1),
        Decimal(10),
        Decimal(-10),
        T0,
        list_type="101",
        limits=ItemLimits(gend="2"),
    )
    assert cats(bill(refund)) == []


def test_stage_and_scope_select_rules() -> None:
    ph = dict(scene="pharmacy", med_type="41")
    assert cats(bill(line(list_type="201"), **ph), stage="post") == ["pharmacy_non_drug"]  # type: ignore[arg-type]
    # item_substitution cannot be judged before the sale (pre)
    assert cats(bill(line(cnt="3"), **ph), History(stock={}), stage="pre") == []  # type: ignore[arg-type]


BASE = '[ruleset]\nadmdvs = "110199"\nversion = "t"\nbegndate = 2025-01-01\n'


@pytest.mark.parametrize(
    ("rule", "names"),
    [
        (
            'id="A"\ncategory="gender_limit"\nresult_type="violation"\naction="ban"',
            "rule[0].action",
        ),
        ('id="A"\ncategory="nope"\nresult_type="violation"\naction="warn"', "rule[0].category"),
        # benford is judged post-hoc only (on the replica), never in real time
        (
            'id="A"\ncategory="benford"\nresult_type="violation"\naction="warn"\nstages=["mid"]',
            "rule[0].stages",
        ),
        (
            'id="A"\ncategory="split_admission"\nresult_type="suspicious"\naction="selfpay"',
            "rule[0].action",
        ),
        (
            'id="A"\ncategory="split_admission"\nresult_type="suspicious"\naction="warn"\nstages=["pre"]',
            "rule[0].stages",
        ),
        (
            'id="A"\ncategory="split_admission"\nresult_type="suspicious"\naction="warn"\n[rule.params]\ndays=-1',
            "rule[0].params.days",
        ),
        (
            'id="A"\ncategory="split_admission"\nresult_type="suspicious"\naction="warn"\n[rule.params]\ndayz=1',
            "rule[0].params.dayz",
        ),
        (
            'id="A"\ncategory="card_misuse"\nresult_type="violation"\naction="warn"\n'
            '[rule.params]\nchecks=["deaht"]',
            "rule[0].params.checks",
        ),
        (
            'id="A"\ncategory="gender_limit"\nresult_type="bad"\naction="warn"',
            "rule[0].result_type",
        ),
        (
            'id="A"\ncategory="gender_limit"\nresult_type="violation"\naction="warn"\n'
            'fixmedins_types=["中医"]',
            "rule[0].fixmedins_types",
        ),
        (
            'id="A"\ncategory="gender_limit"\nresult_type="violation"\naction="warn"\ncolour="red"',
            "rule[0].colour",
        ),
    ],
)
def test_a_bad_parameter_file_names_the_field(rule: str, names: str) -> None:
    with pytest.raises(RuleFileError) as err:
        parse_rules(BASE + "[[rule]]\n" + rule + "\n", "f.toml")
    text = str(err.value)
    assert f"f.toml: {names}" in text and "\n" not in text


def test_a_data_directory_rule_replaces_the_packaged_one(tmp_path: object) -> None:
    from pathlib import Path

    d = Path(str(tmp_path))
    (d / "risk").mkdir()
    (d / "risk" / "local.toml").write_text(
        BASE + '[[rule]]\nid="SDMV-01"\ncategory="same_day_multi_visit"\nresult_type="suspicious"\n'
        'action="warn"\n[rule.params]\nmax_institutions=5\n',
        encoding="utf-8",
    )
    rs = load_ruleset([d])
    rule = rs.by_id("SDMV-01")
    assert rule is not None and rule.params["max_institutions"] == 5
    assert len(rs.rules) == len(RULES.rules)


def test_a_rule_scoped_to_institution_kinds_applies_to_those_kinds_only() -> None:
    from dataclasses import replace

    from yibao.risk.engine import rules_for
    from yibao.risk.params_io import RuleSet

    rs = RuleSet(
        tuple(
            parse_rules(
                BASE.replace("version", 'covers = ["1101"]\nversion')
                + '[[rule]]\nid="G-H"\ncategory="gender_limit"\nresult_type="violation"\n'
                'action="warn"\nfixmedins_types=["hospital"]\n',
                "f.toml",
            )
        )
    )
    b = bill(line())
    at_hospital = replace(b, institution=replace(b.institution, fixmedins_type="hospital"))
    at_clinic = replace(b, institution=replace(b.institution, fixmedins_type="clinic"))
    assert [r.rule_id for r in rules_for(at_hospital, "mid", rs)] == ["G-H"]
    assert rules_for(at_clinic, "mid", rs) == []
    assert rules_for(b, "mid", rs) == []  # a bill whose institution kind is unknown
