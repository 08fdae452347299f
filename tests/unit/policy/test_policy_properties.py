"""Property tests: thousands of random bills under random parameters and under the demo
region; every identity of the split, the caps and non-negativity must hold to the fen."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_factories import D, apply, check_identities, demo_book

from yibao.codes.dicts import (
    ChrgitmLv,
    FundPayType,
    HospApprFlag,
    HospLv,
    Insutype,
    ListType,
    MedChrgitmType,
    MedType,
    PsnIdetType,
    PsnType,
)
from yibao.kit.money import round_fen
from yibao.policy import (
    AccKey,
    CatalogTerms,
    FeeLineIn,
    PersonTerms,
    PolicyBook,
    PolicyRefusal,
    SettlementSplit,
    VisitTerms,
    negate,
    settle,
    settle_lines,
    split_line,
)
from yibao.policy.book import (
    ANY_LEVEL,
    DEFAULT_COUNTER,
    AcctRule,
    AssistanceRule,
    AssistanceTier,
    Band,
    BasicRule,
    ByLevel,
    ByLevelText,
    CriticalRule,
    CvlservRule,
    DedcMode,
    DedcRule,
    LineRules,
    PoolRule,
    PoorTilt,
    RegionVersion,
    Resolved,
    TopupRule,
)

#: 120 random parameter sets × 10 bills + 400 demo years × ~4.5 bills ≈ 3,000 bills.
BILLS_PER_REGION = 10


def _fast(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


PROPS = _fast(120)
SEQ = _fast(400)
LINES = _fast(100)
#: Bills are drawn from a seeded ``random.Random`` (fast; a failure prints its seed).
SEEDS = st.integers(0, 2**32 - 1)

ALL_INSUTYPES = frozenset({"310", "390"})
ALL_GROUPS = frozenset({"in_service", "retired", "resident"})
ALL_CLASSES = frozenset({"outpatient", "inpatient", "pharmacy", "chronic_outpatient"})
COUNTERS = ["a", "b", *DEFAULT_COUNTER.values()]
BUCKETS = {"medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt",
           "inscp_scp_amt"}  # fmt: skip

ratios = st.integers(0, 10000).map(lambda n: D(n) / 10000)
fen = st.integers(0, 3_000_000).map(lambda n: D(n).scaleb(-2))
big_fen = st.integers(0, 60_000_000).map(lambda n: D(n).scaleb(-2))
maybe_cap = st.none() | big_fen


def by_level(values: st.SearchStrategy[Decimal]) -> st.SearchStrategy[ByLevel]:
    scalar = values.map(lambda v: ByLevel.of(v, "x"))
    table = st.fixed_dictionaries(
        {ANY_LEVEL: values},
        optional={lv.value: values for lv in HospLv},
    ).map(lambda d: ByLevel(d, "x"))
    return scalar | table


RATIO_BY_LEVEL = by_level(ratios)
DEDC_BY_LEVEL = by_level(st.integers(0, 500_000).map(lambda n: D(n).scaleb(-2)))


@st.composite
def _bands(draw: st.DrawFn) -> tuple[Band, ...]:
    bounds = sorted(draw(st.sets(st.integers(1, 200_000), max_size=3)))
    uptos: list[Decimal | None] = [D(b) for b in bounds]
    uptos.append(None)
    return tuple(Band(u, draw(RATIO_BY_LEVEL)) for u in uptos)


BANDS = _bands()
COUNTER_TEXT = st.sampled_from(["", *COUNTERS]).map(lambda c: ByLevelText({ANY_LEVEL: c}))
IDETS = st.frozensets(st.sampled_from([i.value for i in PsnIdetType]), min_size=1)
POOLS = st.none() | st.builds(
    PoolRule,
    bands=BANDS,
    cap=maybe_cap,
    band_scope=st.sampled_from(["annual", "visit"]),
    band_counter=COUNTER_TEXT,
    cap_counter=st.sampled_from(["", *COUNTERS]),
    fund_type=st.sampled_from([None, FundPayType.EMPLOYEE_POOL, FundPayType.RESIDENT_POOL]),
)
SCOPE = (st.just("r"), st.just(ALL_INSUTYPES), st.just(ALL_CLASSES))
TOPUPS = st.lists(st.builds(TopupRule, *SCOPE, RATIO_BY_LEVEL, maybe_cap), max_size=1)
POOR = st.none() | st.builds(PoorTilt, IDETS, ratios, ratios, st.booleans())
CRITICALS = st.lists(st.builds(CriticalRule, *SCOPE, fen, BANDS, maybe_cap, POOR), max_size=1)
TIERS = st.lists(
    st.builds(AssistanceTier, IDETS, ratios, fen, maybe_cap), min_size=1, max_size=3
).map(tuple)
ASSISTANCES = st.lists(st.builds(AssistanceRule, *SCOPE, TIERS), max_size=1)
CVLSERVS = st.lists(st.builds(CvlservRule, *SCOPE, RATIO_BY_LEVEL, maybe_cap), max_size=1)


@st.composite
def region(draw: st.DrawFn) -> RegionVersion:
    mode: DedcMode = draw(st.sampled_from(["none", "annual", "admission"]))
    amount = draw(DEDC_BY_LEVEL)
    later = draw(DEDC_BY_LEVEL) if mode == "admission" else amount
    rule = BasicRule(
        id="random",
        insutypes=ALL_INSUTYPES,
        psn_groups=ALL_GROUPS,
        visit_classes=ALL_CLASSES,
        psn_types=None,
        age_min=None,
        age_max=None,
        dedc=DedcRule(mode, amount, later, draw(COUNTER_TEXT)),
        pool=draw(POOLS),
        acct=AcctRule(
            draw(st.sampled_from(["none", "inscp", "inscp_pre", "all"])), draw(st.booleans())
        ),
    )
    return RegionVersion(
        admdvs="990199",
        name="random",
        covers=("9901",),
        version="x",
        begndate=date(2024, 1, 1),
        enddate=None,
        unknown_code=draw(st.sampled_from(["refuse", "self_pay"])),
        med_type_class={},
        rules=(rule,),
        topups=tuple(draw(TOPUPS)),
        criticals=tuple(draw(CRITICALS)),
        assistances=tuple(draw(ASSISTANCES)),
        cvlservs=tuple(draw(CVLSERVS)),
        source="<random>",
    )


PRICE_CAPS = st.none() | st.integers(0, 5_000_000).map(lambda n: D(n).scaleb(-4))
LINE_AMOUNTS = st.integers(0, 2_000_000).map(lambda n: D(n).scaleb(-2))
APPR = st.sampled_from(list(HospApprFlag))
LIST_TYPES = st.sampled_from(list(ListType))
LEVELS = st.sampled_from(list(ChrgitmLv))
ITEM_TYPES = st.sampled_from(list(MedChrgitmType))


@st.composite
def catalog_terms(draw: st.DrawFn) -> CatalogTerms:
    return CatalogTerms(
        hilist_code="H",
        hilist_name="h",
        list_type=draw(LIST_TYPES),
        chrgitm_lv=draw(LEVELS),
        med_chrgitm_type=draw(ITEM_TYPES),
        selfpay_prop=draw(ratios),
        pric_uplmt_amt=draw(PRICE_CAPS),
        lmt_used_flag=draw(st.booleans()),
        hi_nego_drug_flag=draw(st.booleans()),
    )


ACC_KEYS = [AccKey.IPT_ADMISSIONS, AccKey.HIFOB_PAID, AccKey.HIFMI_BASE, AccKey.HIFMI_PAID,
            AccKey.CVLSERV_PAID, AccKey.MAF_BASE, AccKey.MAF_PAID]  # fmt: skip
for _c in COUNTERS:
    ACC_KEYS += [AccKey.dedc_used(_c), AccKey.inscp(_c), AccKey.pool_paid(_c)]


def expect_refusal(lines: list[FeeLineIn], rules: LineRules, refusal: PolicyRefusal) -> None:
    """A refusal is legitimate only for an unknown code the region refuses, or for refunds
    that exceed what they refund (a negative bill bucket)."""
    if refusal.field == "med_list_codg":
        assert rules.unknown_code == "refuse"
        assert any(fl.terms is None and fl.feedetl_sn == refusal.feedetl_sn for fl in lines)
        return
    assert refusal.field in BUCKETS, refusal
    rows = [split_line(fl, rules) for fl in lines]
    assert any(sum((getattr(r, f) for r in rows), D("0")) < 0 for f in
               ("det_item_fee_sumamt", "fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt",
                "inscp_scp_amt"))  # fmt: skip


def check_caps(
    s: SettlementSplit, p: PersonTerms, acc: Mapping[str, Decimal], rz: Resolved
) -> None:
    def room(cap: Decimal | None, key: str) -> Decimal | None:
        return None if cap is None else max(D("0"), cap - acc.get(key, D("0")))

    def within(amount: Decimal, r: Decimal | None) -> None:
        assert r is None or amount <= r, (amount, r)

    pool = rz.basic.pool
    if pool is None:
        assert s.hifp_pay == 0
    else:
        key = AccKey.pool_paid(pool.cap_counter or DEFAULT_COUNTER[rz.visit_class])
        within(s.hifp_pay, room(pool.cap, key))
        assert s.hifp_pay <= s.inscp_scp_amt - s.act_pay_dedc
    if rz.topup is None:
        assert s.hifob_pay == 0
    else:
        within(s.hifob_pay, room(rz.topup.cap, AccKey.HIFOB_PAID))
    crit = rz.critical
    if crit is None:
        assert s.hifmi_pay == 0
    else:
        poor = crit.poor is not None and any(i.value in crit.poor.identities for i in p.assistance)
        if not (poor and crit.poor is not None and crit.poor.no_cap):
            within(s.hifmi_pay, room(crit.cap, AccKey.HIFMI_PAID))
    tier = rz.assistance.tier_for(p.assistance) if rz.assistance else None
    if tier is None:
        assert s.maf_pay == 0
    else:
        within(s.maf_pay, room(tier.limit, AccKey.MAF_PAID))
    if rz.cvlserv is None or not p.cvlserv_flag:
        assert s.cvlserv_pay == 0
    else:
        within(s.cvlserv_pay, room(rz.cvlserv.cap, AccKey.CVLSERV_PAID))
    if rz.basic.dedc.mode == "none":
        assert s.act_pay_dedc == 0


def check_reversal(s: SettlementSplit, acc: Mapping[str, Decimal]) -> None:
    rev = negate(s)
    assert negate(rev) == s
    assert apply(apply(acc, s.accumulator_delta), rev.accumulator_delta) == apply(acc, {})
    assert rev.balc == s.balc + s.acct_pay - s.acct_mulaid_pay
    for name in ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "hifp_pay"):
        assert getattr(rev, name) == -getattr(s, name)
        assert str(getattr(rev, name)) != "-0.00"
    assert sum((d.fund_payamt for d in rev.setldetail), D("0")) == -sum(
        (d.fund_payamt for d in s.setldetail), D("0")
    )


def rnd_amount(rnd: random.Random, hi: int) -> Decimal:
    """An amount in fen up to ``hi`` yuan, skewed toward small bills but reaching the caps."""
    scale = rnd.choice([100, 1_000, 10_000, hi])
    return D(rnd.randint(0, min(scale, hi) * 100)).scaleb(-2)


def rnd_terms(rnd: random.Random) -> CatalogTerms | None:
    if rnd.random() < 0.08:
        return None
    return CatalogTerms(
        hilist_code="H",
        hilist_name="h",
        list_type=rnd.choice(list(ListType)),
        chrgitm_lv=rnd.choice(list(ChrgitmLv)),
        med_chrgitm_type=rnd.choice(list(MedChrgitmType)),
        selfpay_prop=rnd.choice([D(0), D(1), D(rnd.randint(0, 10000)) / 10000]),
        pric_uplmt_amt=(None if rnd.random() < 0.6 else D(rnd.randint(0, 5_000_000)).scaleb(-4)),
        lmt_used_flag=rnd.random() < 0.2,
    )


def rnd_lines(rnd: random.Random) -> list[FeeLineIn]:
    out: list[FeeLineIn] = []
    for i in range(rnd.randint(0, 8)):
        cnt = D(rnd.randint(1, 40))
        amount = rnd_amount(rnd, 60_000)
        t = rnd_terms(rnd)
        flag = rnd.choice(list(HospApprFlag))
        reason = "限定性别" if rnd.random() < 0.05 else None
        fl = FeeLineIn(f"{i}", amount, cnt, round(amount / cnt, 6), t, flag, reason, "CODE")
        out.append(fl)
        roll = rnd.random()
        if roll < 0.1:  # full refund
            out.append(FeeLineIn(f"{i}r", -amount, -cnt, fl.pric, t, flag, reason, "CODE"))
        elif roll < 0.2 and cnt > 1:  # partial refund at the same price
            k = D(rnd.randint(1, int(cnt) - 1))
            refund = -round_fen(fl.pric * k)
            out.append(FeeLineIn(f"{i}p", refund, -k, fl.pric, t, flag, reason, "CODE"))
    rnd.shuffle(out)
    return out


def rnd_person(rnd: random.Random, *, demo: bool) -> PersonTerms:
    psn_type = rnd.choice(list(PsnType))
    employee = psn_type.group.value != "resident" if demo else rnd.random() < 0.5
    return PersonTerms(
        psn_no="P",
        insutype=Insutype.EMPLOYEE if employee else Insutype.RESIDENT,
        psn_type=psn_type,
        age=rnd.randint(0, 105),
        assistance=tuple(rnd.sample(list(PsnIdetType), rnd.choice([0, 0, 0, 1, 2]))),
        balc=rnd_amount(rnd, 20_000),
        family_balc=D("0.00") if rnd.random() < 0.5 else rnd_amount(rnd, 20_000),
        cvlserv_flag=rnd.random() < 0.2,
    )


def rnd_visit(rnd: random.Random, admdvs: str, *, demo: bool) -> VisitTerms:
    med_type = rnd.choice(list(MedType))
    levels = [HospLv.LEVEL_1, HospLv.LEVEL_2, HospLv.LEVEL_3]
    if med_type is MedType.PHARMACY or not demo:
        levels.append(HospLv.NONE)
    return VisitTerms(
        med_type=med_type,
        hosp_lv=rnd.choice(levels),
        admdvs=admdvs,
        setl_date=date(2024, 5, 1),
        acct_used_flag=rnd.random() < 0.8,
        same_admission_settled=rnd.random() < 0.1,
    )


def rnd_accumulators(rnd: random.Random) -> dict[str, Decimal]:
    acc = {k: rnd_amount(rnd, 600_000) for k in rnd.sample(ACC_KEYS, rnd.randint(0, 8))}
    if AccKey.IPT_ADMISSIONS in acc:
        acc[AccKey.IPT_ADMISSIONS] = D(rnd.randint(0, 5))
    return acc


def demo_accumulators(rnd: random.Random) -> dict[str, Decimal]:
    """A year under way, often near the demo region's deductibles and caps."""

    def near(lo: int, hi: int) -> Decimal:
        return D(rnd.randint(lo * 100, hi * 100)).scaleb(-2)

    ranges = {
        AccKey.dedc_used("otp"): (0, 1800),
        AccKey.inscp("otp"): (0, 30_000),
        AccKey.pool_paid("otp"): (0, 3_200),
        AccKey.inscp("ipt"): (0, 200_000),
        AccKey.pool_paid("ipt"): (60_000, 260_000),
        AccKey.HIFOB_PAID: (0, 410_000),
        AccKey.HIFMI_BASE: (0, 90_000),
        AccKey.MAF_PAID: (0, 70_000),
        AccKey.MAF_BASE: (0, 90_000),
    }
    acc = {k: near(*r) for k, r in ranges.items() if rnd.random() < 0.6}
    acc[AccKey.IPT_ADMISSIONS] = D(rnd.randint(0, 3))
    return acc


@PROPS
@given(region(), SEEDS)
def test_random_bills_under_random_parameters(version: RegionVersion, seed: int) -> None:
    """Random parameters (bands, ratios, caps, deductible modes, account scopes, layers) and,
    for each, several random bills with random persons, visits and accumulators."""
    book = PolicyBook([[version]])
    rnd = random.Random(seed)
    for _ in range(BILLS_PER_REGION):
        p = rnd_person(rnd, demo=False)
        v = rnd_visit(rnd, "990105", demo=False)
        acc = rnd_accumulators(rnd)
        lines = rnd_lines(rnd)
        before = dict(acc)
        try:
            s = settle(lines, p, v, acc, book)
        except PolicyRefusal as refusal:
            expect_refusal(lines, LineRules(version.unknown_code), refusal)
            continue
        assert acc == before  # no side effects
        check_identities(s, p)
        check_caps(s, p, acc, book.resolve(p, v))
        check_reversal(s, acc)
        assert settle(lines, p, v, acc, book) == s  # trial and real agree
        # settle is split_line per line and then settle_lines (the bulk load's path)
        rules = book.line_rules(v.admdvs, v.setl_date)
        assert settle_lines([split_line(ln, rules) for ln in lines], p, v, acc, book) == s


@SEQ
@given(SEEDS)
def test_a_year_of_bills_in_the_demo_region(seed: int) -> None:
    """One person's year under the demo parameters: caps hold over the year, balances never
    go negative, and reversing every settlement (newest first) restores the year."""
    book = demo_book()
    rnd = random.Random(seed)
    p = rnd_person(rnd, demo=True)
    start = {} if rnd.random() < 0.4 else demo_accumulators(rnd)  # a year already under way
    acc = dict(start)
    done: list[SettlementSplit] = []
    person = p
    employee = p.insutype is Insutype.EMPLOYEE

    def capped(key: str, cap: str) -> None:
        assert acc.get(key, D("0")) <= max(D(cap), start.get(key, D("0"))), key

    for _ in range(rnd.randint(1, 8)):
        v = rnd_visit(rnd, "110105", demo=True)
        lines = rnd_lines(rnd)
        try:
            s = settle(lines, person, v, acc, book)
        except PolicyRefusal as refusal:
            if refusal.field == "insutype":  # e.g. maternity med_types have no rule here
                continue
            expect_refusal(lines, book.line_rules(v.admdvs, v.setl_date), refusal)
            continue
        check_identities(s, person)
        check_caps(s, person, acc, book.resolve(person, v))
        acc = apply(acc, s.accumulator_delta)
        done.append(s)
        person = dataclasses.replace(person, balc=s.balc, family_balc=s.family_balc)
        capped(AccKey.pool_paid("ipt"), "100000" if employee else "250000")
        capped(AccKey.HIFOB_PAID, "400000")
        capped(AccKey.dedc_used("otp"), "1800")
        if not employee:
            capped(AccKey.pool_paid("otp"), "3000")
        assert person.balc >= 0 and person.family_balc >= 0
    for s in reversed(done):
        acc = apply(acc, negate(s).accumulator_delta)
        person = dataclasses.replace(
            person,
            balc=person.balc + s.acct_pay - s.acct_mulaid_pay,
            family_balc=person.family_balc + s.acct_mulaid_pay,
        )
    assert acc == apply(start, {})
    assert (person.balc, person.family_balc) == (p.balc, p.family_balc)


@LINES
@given(st.lists(catalog_terms() | st.none(), min_size=1, max_size=4), LINE_AMOUNTS, APPR)
def test_line_split_identity(
    many: list[CatalogTerms | None], amount: Decimal, flag: HospApprFlag
) -> None:
    """Shrinkable line-level property: each split adds back, refunds are exact negations."""
    for t in many:
        fl = FeeLineIn("1", amount, D(3), round(amount / 3, 6), t, flag, None, "C")
        row = split_line(fl, LineRules("self_pay"))
        back = split_line(
            FeeLineIn("2", -amount, D(-3), fl.pric, t, flag, None, "C"), LineRules("self_pay")
        )
        for r in (row, back):
            assert r.det_item_fee_sumamt == (
                r.fulamt_ownpay_amt + r.overlmt_amt + r.preselfpay_amt + r.inscp_scp_amt
            )
        assert row.inscp_scp_amt == -back.inscp_scp_amt
        assert row.preselfpay_amt == -back.preselfpay_amt
        assert min(row.fulamt_ownpay_amt, row.overlmt_amt, row.preselfpay_amt,
                   row.inscp_scp_amt) >= 0  # fmt: skip
