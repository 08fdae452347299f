"""Properties of the review on random bills: it never fails, a hit names only lines of the
bill, amounts at stake are never negative nor above the bill, and every hit's rule, category
and action come from the rule set."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.review.demo_kb import DEMO_KB
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
from yibao.risk.params_io import load_ruleset

RULES = load_ruleset()
IDS = {r.rule_id: r for r in RULES.rules}
KB = KnowledgeBase(
    item_pairs=tuple(ItemPair(**r) for r in DEMO_KB["item_pairs"]),
    bundles=tuple(BundlePart(**r) for r in DEMO_KB["bundles"]),
    price_limits=tuple(PriceLimit(**r) for r in DEMO_KB["price_limits"]),
    drug_limits=tuple(DrugLimit(**r) for r in DEMO_KB["drug_limits"]),
    frequency_limits=tuple(FrequencyLimit(**r) for r in DEMO_KB["frequency_limits"]),
    windows=tuple(Window(**r) for r in DEMO_KB["windows"]),
    consumable_links=tuple(ConsumableLink(**r) for r in DEMO_KB["consumable_links"]),
)
_KB_CODES = {r.get("hilist_code") or r.get("hilist_code_a") for t in DEMO_KB.values() for r in t}
CODES = [
    *sorted(c for c in _KB_CODES if c),
    "C1001030100100000004",
    "331506001000000",
    "XJ01CAA040E001010100001",
]
T0 = datetime(2025, 5, 1, 9)

lines = st.lists(
    st.builds(
        lambda i, code, cnt, pric, day, lt, gend, amax, days: Line(
            line_id=str(i),
            hilist_code=code,
            hilist_name="x",
            cnt=Decimal(cnt),
            pric=Decimal(pric),
            amount=Decimal(cnt) * Decimal(pric),
            fee_ocur_time=T0 + timedelta(days=day),
            list_type=lt,
            limits=ItemLimits(gend=gend, age_max=amax),
            prd_days=Decimal(days) if days else None,
        ),
        st.integers(0, 10_000),
        st.sampled_from(CODES),
        st.integers(-3, 40),
        st.integers(1, 500),
        st.integers(0, 3),
        st.sampled_from([None, "101", "201", "301"]),
        st.sampled_from([None, "1", "2"]),
        st.sampled_from([None, 14, 65]),
        st.integers(0, 30),
    ),
    min_size=1,
    max_size=25,
    unique_by=lambda ln: ln.line_id,
)
past = st.lists(
    st.builds(
        lambda i, scene, day, los: PastVisit(
            f"V{i}",
            "H1",
            scene,
            "21" if scene == "inpatient" else "11",
            T0 - timedelta(days=day),
            T0 - timedelta(days=day - los) if los else None,
        ),
        st.integers(0, 99),
        st.sampled_from(["outpatient", "inpatient", "pharmacy"]),
        st.integers(0, 60),
        st.integers(0, 20),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(
    lines,
    past,
    st.sampled_from(["outpatient", "inpatient", "pharmacy"]),
    st.sampled_from(["pre", "mid", "post"]),
    st.integers(0, 90),
    st.booleans(),
)
def test_review_on_random_bills(
    bill_lines: list[Line],
    visits: list[PastVisit],
    scene: str,
    stage: str,
    age: int,
    dead: bool,
) -> None:
    bill = Bill(
        visit=Visit("M1", scene, "21" if scene == "inpatient" else "11", T0),  # type: ignore[arg-type]
        person=Person("P1", "1", age, date(2025, 4, 1) if dead else None),
        institution=Institution("H1", "2", "110102", pharmacy=scene == "pharmacy"),
        lines=tuple(bill_lines),
    )
    history = History(
        visits=tuple(visits),
        lines=tuple(PastLine("V1", ln.hilist_code, Decimal(5), T0 - timedelta(days=2), Decimal(7)) for ln in bill_lines[:3]),
        stock={},
    )  # fmt: skip
    hits = review(stage, bill, history, KB, RULES)  # type: ignore[arg-type]
    ids = {ln.line_id for ln in bill_lines}
    total = sum((ln.amount for ln in bill_lines if ln.amount > 0 and ln.cnt > 0), Decimal(0))
    for h in hits:
        rule = IDS[h.rule_id]
        assert (h.category, h.action, h.result_type) == (
            rule.category,
            rule.action,
            rule.result_type,
        )
        assert stage in rule.stages and scene in rule.scenes
        assert set(h.line_ids) <= ids
        assert Decimal(0) <= h.amount <= total
        assert h.reason and "P1" not in h.reason
