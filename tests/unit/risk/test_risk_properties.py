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
from yibao.risk.model import NO_LIMITS, ItemLimits, PastLine, PastVisit
from yibao.risk.params_io import load_ruleset
from yibao.risk.registry import LOGICS, Facts

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


_DAY0 = date(2025, 1, 1)
_FEW = ["A", "B", "C", "D", "E", "F"]
dated = st.tuples(st.integers(0, 60), st.one_of(st.none(), st.integers(0, 60)))


def _span(d: tuple[int, int | None]) -> dict[str, date | None]:
    start, length = d
    begin = _DAY0 + timedelta(days=start)
    return {
        "begndate": begin,
        "enddate": None if length is None else begin + timedelta(days=length),
    }


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(_FEW), st.sampled_from(_FEW), st.sampled_from(["includes", "excludes"]), dated), max_size=12),
    st.lists(st.tuples(st.sampled_from(["K1", "K2", "K3"]), st.sampled_from(_FEW), dated), max_size=12),
    st.sets(st.sampled_from([*_FEW, "Z"]), max_size=4),
    st.integers(0, 130),
)  # fmt: skip
def test_kb_lookups_by_the_bills_items_keep_every_pair_and_bundle_they_could_use(
    pairs: list[tuple[str, str, str, tuple[int, int | None]]],
    bundles: list[tuple[str, str, tuple[int, int | None]]],
    codes: set[str],
    offset: int,
) -> None:
    """The duplicate- and split-charge rules look up only the pairs and bundles naming an
    item of the bill; what they get must be exactly what a scan of the whole table finds."""
    kb = KnowledgeBase(
        item_pairs=tuple(ItemPair(hilist_code_a=a, hilist_code_b=b, relation=rel, **_span(d)) for a, b, rel, d in pairs),  # type: ignore[arg-type]
        bundles=tuple(BundlePart(bundle_code=k, bundle_name=k, hilist_code=c, **_span(d)) for k, c, d in bundles),  # type: ignore[arg-type]
    )  # fmt: skip
    day = _DAY0 + timedelta(days=offset)
    scanned = [p for p in kb.pairs(day) if p.hilist_code_a in codes or p.hilist_code_b in codes]
    assert kb.pairs(day, touching=codes) == scanned
    full = kb.bundle_parts(day)
    narrowed = kb.bundle_parts(day, touching=codes)
    for bundle, parts in full.items():
        if any(p.hilist_code in codes for p in parts):
            assert narrowed.get(bundle) == parts
    for bundle, parts in narrowed.items():
        assert full[bundle] == parts


@settings(max_examples=200, deadline=None)
@given(lines, st.sampled_from(["outpatient", "inpatient", "pharmacy"]), st.integers(0, 90), st.sampled_from(["1", "2", None]))  # fmt: skip
def test_catalog_limit_rules_find_nothing_on_a_bill_of_unrestricted_terms(
    bill_lines: list[Line], scene: str, age: int, gend: str | None
) -> None:
    """The engine skips the rules registered `restricted_lines_only` on a bill whose charged
    lines carry no catalog restriction; each such rule, run anyway, must find nothing."""
    free = tuple(ln._replace(limits=NO_LIMITS) for ln in bill_lines)
    bill = Bill(
        visit=Visit("M1", scene, "21" if scene == "inpatient" else "11", T0, diag_codes=("J00",)),  # type: ignore[arg-type]
        person=Person("P1", gend, age, None),
        institution=Institution("H1", "1", "110102", pharmacy=scene == "pharmacy"),
        lines=free,
    )
    skipped = [e for e in LOGICS.values() if e.restricted_lines_only]
    assert {e.category for e in skipped} == {
        "gender_limit", "child_only", "age_limit", "hosp_lv_limit", "indication_limit", "med_type_limit",
    }  # fmt: skip
    charged = tuple(ln for ln in free if ln.amount > 0 and ln.cnt > 0)
    for entry in skipped:
        params = {k: spec.default for k, spec in entry.params.items() if spec.default is not None}
        facts = Facts(
            bill=bill,
            history=History(),
            kb=KB,
            params=params,
            day=T0.date(),
            charged=charged,
            visit_charged=charged,
        )
        assert list(entry.logic(facts)) == [], entry.category
