"""The city's visits: byte-for-byte determinism, realistic bills, labelled anomalies at the
configured rates."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from yibao.kit.clock import age_on
from yibao.review.demo_kb import rows_from_document
from yibao.simulate.bill_blocks import ITEMS
from yibao.simulate.bulk import size_city
from yibao.simulate.clinical import BUILTIN_ITEMS, CONDITIONS, NON_DRUG_GOODS
from yibao.simulate.context import CityContext
from yibao.simulate.export import city_files
from yibao.simulate.kb import demo_kb
from yibao.simulate.model import ANOMALY_KINDS, CATEGORIES, CityParams
from yibao.simulate.people import make_institutions, make_persons
from yibao.simulate.visits import build_chunk, institution_labels

ITEMS_BY_CODE = {i.code for i in BUILTIN_ITEMS}
SMALL = CityParams(seed=42, persons=250, institutions=20, days=120)


def test_same_seed_gives_identical_files() -> None:
    first = city_files(SMALL)
    second = city_files(SMALL)
    assert first == second
    assert first["visits.csv"] and first["lines.csv"]
    other = city_files(CityParams(seed=43, persons=250, institutions=20, days=120))
    assert other["visits.csv"] != first["visits.csv"]


@pytest.fixture(scope="module")
def city() -> tuple[CityParams, object, list]:
    rates = dict.fromkeys(ANOMALY_KINDS, 0.04)
    rates["peer_outlier"] = rates["benford"] = 0.25
    params = CityParams(seed=9, persons=3000, institutions=60, rates=rates)
    insts = make_institutions(params)
    persons = list(make_persons(params))
    builder = build_chunk(CityContext(params, insts), 0, persons)
    return params, builder, insts


def test_bills_are_realistic(city: tuple) -> None:
    params, builder, _insts = city
    visits = builder.visits
    kinds = Counter(v.kind for v in visits)
    assert kinds["outpatient"] > kinds["pharmacy"] > kinds["inpatient"] > 0
    end = params.start + timedelta(days=params.days)
    weekday = Counter(v.begntime.weekday() for v in visits if v.kind == "outpatient")
    assert weekday[2] > weekday[6]  # fewer outpatient visits on Sundays
    non_drug = {lb.visit_no for lb in builder.labels if lb.category == "pharmacy_non_drug"}
    for v in visits:
        assert v.lines and v.total > 0
        assert params.start <= v.begntime.date() < end + timedelta(days=30)
        assert v.diagnoses or v.kind == "pharmacy"
        for ln in v.lines:
            assert ln.det_item_fee_sumamt == (ln.cnt * ln.pric).quantize(ln.det_item_fee_sumamt)
        if v.kind == "inpatient":
            assert v.endtime is not None and v.endtime > v.begntime
            assert any(ln.hilist_name.startswith("床位费") for ln in v.lines)
        if v.kind == "pharmacy" and v.visit_no not in non_drug:
            # drugs, and the catalog's consumables a pharmacy may sell (a near-miss)
            assert all(ln.list_type.startswith("10") or ln.list_type == "301" for ln in v.lines)
    chronic = [v for v in visits if v.med_type == "14"]
    assert chronic and all(
        any(ln.prd_days == 30 for ln in v.lines) for v in chronic if len(v.lines) > 1
    )


def test_every_anomaly_is_labelled_at_about_its_rate(city: tuple) -> None:
    params, builder, insts = city
    labels = builder.labels + institution_labels(insts)
    by_kind = Counter(lb.category for lb in labels)
    assert set(by_kind) == set(ANOMALY_KINDS)
    assert len(ANOMALY_KINDS) >= 20 and set(ANOMALY_KINDS) <= set(CATEGORIES)
    # an injection is one unit of its category: a visit (however many lines it labels), a
    # person (frequent visits, clustered visits, card misuse)
    persons_kinds = (
        "frequent_visits",
        "clustered_visits",
        "card_misuse",
        "low_threshold_admission",
    )
    units = builder.units
    for kind in ANOMALY_KINDS:
        if kind in ("peer_outlier", "benford"):
            continue
        if kind in persons_kinds:
            hits = len({lb.psn_no for lb in labels if lb.category == kind})
            n = units[kind] if kind == "card_misuse" else params.persons
        else:
            hits = len({lb.visit_no for lb in labels if lb.category == kind})
            n = units[kind]
        low = 0.3 if kind in ("card_misuse", "clustered_visits") else 0.4
        rate = hits / n
        expected = 1.0 if kind == "card_misuse" else 0.04
        assert low * expected < rate < 1.8 * expected, (kind, rate, n)
    visit_nos = {v.visit_no for v in builder.visits}
    assert all(lb.visit_no in visit_nos for lb in labels if lb.visit_no)
    flagged = [i for i in insts if i.pattern]
    assert by_kind["peer_outlier"] + by_kind["benford"] == len(flagged) > 0
    assert all(i.kind == "pharmacy" for i in insts if i.pattern == "benford")


def test_labelled_anomalies_are_what_they_say(city: tuple) -> None:
    """Each label's unit shows its category, against the knowledge base's thresholds."""
    params, builder, _insts = city
    kb = demo_kb()
    visits = {v.visit_no: v for v in builder.visits}
    persons = {p.psn_no: p for p in make_persons(params)}
    by_person: dict[str, list] = {}
    for v in builder.visits:
        by_person.setdefault(v.psn_no, []).append(v)
    caps = {r["hilist_code"]: r["max_pric"] for r in kb.tables["price_limits"]}
    seen: Counter[str] = Counter()
    for lb in builder.labels:
        v = visits[lb.visit_no]
        p = persons[v.psn_no]
        mine = by_person[p.psn_no]
        assert lb.psn_no == p.psn_no and lb.fixmedins_code == v.fixmedins_code
        unit = CATEGORIES[lb.category][1]
        assert (lb.feedetl_sn is not None) == (unit == "line"), lb
        line = (
            next(ln for ln in v.lines if ln.feedetl_sn == lb.feedetl_sn) if lb.feedetl_sn else None
        )
        seen[lb.category] += 1
        if lb.category == "split_admission":
            before = [
                x for x in mine if x.kind == "inpatient" and x.endtime and x.endtime <= v.begntime
            ]
            gap = (v.begntime.date() - max(x.endtime for x in before).date()).days
            assert 1 <= gap <= kb.readmission_days
        elif lb.category == "same_day_multi_visit":
            assert sum(x.begntime.date() == v.begntime.date() for x in mine) >= 2
        elif lb.category == "outpatient_during_stay":
            assert any(
                x.kind == "inpatient" and x.begntime.date() < v.begntime.date() < x.endtime.date()
                for x in mine
            )
        elif lb.category == "over_quantity":
            assert line is not None and line.prd_days > kb.max_days(v.med_type)
        elif lb.category == "over_price":
            assert line is not None and line.pric > Decimal(caps[line.hilist_code])
        elif lb.category == "duplicate_charge":
            assert line is not None
            twins = [
                ln for ln in v.lines if ln._replace(feedetl_sn="") == line._replace(feedetl_sn="")
            ]
            assert len(twins) == 2
        elif lb.category == "gender_limit":
            item = ITEMS[line.hilist_name]
            assert item.gend is not None and item.gend != p.gend
        elif lb.category == "child_only":
            assert ITEMS[line.hilist_name].age_max <= age_on(p.brdy, v.begntime.date())
        elif lb.category == "age_limit":
            assert ITEMS[line.hilist_name].age_min > age_on(p.brdy, v.begntime.date())
        elif lb.category == "hosp_lv_limit":
            assert v.hosp_lv not in ITEMS[line.hilist_name].hosp_lv
        elif lb.category == "indication_limit":
            prefixes = ITEMS[line.hilist_name].diag_codes
            assert not any(c.startswith(prefixes) for c, _n in v.diagnoses)
        elif lb.category == "med_type_limit":
            assert v.kind != "inpatient" and "ipt" in ITEMS[line.hilist_name].med_type
        elif lb.category == "frequency_limit":
            assert line.hilist_code in kb.daily_items and line.cnt > 1
        elif lb.category == "fabricated_service":
            assert line.fee_ocur_time.date() > v.endtime.date()
        elif lb.category == "high_value_consumable":
            codes = {ln.hilist_code for ln in v.lines}
            assert not codes & set(kb.consumable_links[line.hilist_code])
        elif lb.category == "pharmacy_non_drug":
            assert v.kind == "pharmacy" and line.hilist_code not in ITEMS_BY_CODE
            assert line.hilist_name in {g.name for g in NON_DRUG_GOODS}
        elif lb.category == "out_of_catalog":
            assert line.hilist_code not in ITEMS_BY_CODE
        elif lb.category == "repeat_prescription":
            # bought again while another visit's supply of it has more than the grace left
            assert v.kind in ("outpatient", "pharmacy") and line.prd_days
            assert held_on(mine, v, line) > kb.holding_days
        elif lb.category == "split_charge":
            parts = {c for _b, cs in kb.bundles for c in cs}
            assert line.hilist_code in parts
        elif lb.category == "bed_hogging":
            days = Counter(ln.fee_ocur_time.date() for ln in v.lines)
            only = [
                d
                for d in days
                if {ln.hilist_name for ln in v.lines if ln.fee_ocur_time.date() == d}
                <= {"床位费(三人间)", "一级护理", "二级护理"}
            ]
            assert len(only) >= kb.bed_only_days
        elif lb.category == "los_outlier":
            cond = next(
                c
                for c in CONDITIONS
                if c.course == "inpatient" and c.diag_code == v.diagnoses[0][0]
            )
            assert (v.endtime.date() - v.begntime.date()).days > cond.los[1] * kb.los_ratio
        elif lb.category == "low_threshold_admission":
            assert v.kind == "inpatient" and v.diagnoses[0][0].startswith(kb.outpatient_diagnoses)
        elif lb.category == "card_misuse":
            if p.death_date is not None:
                assert v.begntime.date() > p.death_date
            else:
                near = [
                    x
                    for x in mine
                    if x is not v and abs(x.begntime - v.begntime) <= timedelta(hours=1)
                ]
                assert near and near[0].fixmedins_code != v.fixmedins_code
        elif lb.category == "frequent_visits":
            window, threshold = kb.frequent_visits
            start = date.fromisoformat(lb.detail.split()[0][1:])
            inside = [
                x for x in mine if start <= x.begntime.date() < start + timedelta(days=window)
            ]
            assert len(inside) >= threshold
        elif lb.category == "clustered_visits":
            gid = lb.detail.split()[0]
            group = [x for x in builder.labels if x.detail.split()[0] == gid and x.day == lb.day]
            assert len({x.psn_no for x in group}) >= 3
            assert {x.fixmedins_code for x in group} == {v.fixmedins_code}
    assert len(seen) == len(ANOMALY_KINDS) - 2  # all but the institutions'


def held_on(mine: list, v: object, line: object) -> int:
    """The most days of the line's drug left on the line's date from the person's other
    visits' supplies begun before it (a supply without days counts 7, as the rule does)."""
    held = 0
    for x in mine:
        if x is v or x.kind == "inpatient":
            continue
        for p in x.lines:
            if p.hilist_code == line.hilist_code and p.fee_ocur_time < line.fee_ocur_time:
                days = int(p.prd_days) if p.prd_days else 7
                left = p.fee_ocur_time.date() + timedelta(days=days) - line.fee_ocur_time.date()
                held = max(held, left.days)
    return held


def test_nobody_takes_a_drug_home_they_still_hold(city: tuple) -> None:
    """A clinic or pharmacy prescribes only what the patient has run short of: outside the
    labelled repeat prescriptions, no drug line comes while another visit's supply of it has
    more than the grace days left (a chronic patient's next month, a pharmacy purchase, a
    co-morbidity's drug given at another condition's visit)."""
    _params, builder, _insts = city
    grace = demo_kb().holding_days
    labelled = {
        (lb.visit_no, lb.feedetl_sn)
        for lb in builder.labels
        if lb.category == "repeat_prescription"
    }
    by_person: dict[str, list] = {}
    for v in builder.visits:
        by_person.setdefault(v.psn_no, []).append(v)
    repeats, lines = [], 0
    for mine in by_person.values():
        for v in mine:
            if v.kind == "inpatient":
                continue
            for ln in v.lines:
                if ln.list_type.startswith("10") and (v.visit_no, ln.feedetl_sn) not in labelled:
                    lines += 1
                    if held_on(mine, v, ln) > grace:
                        repeats.append((v.visit_no, ln.hilist_name))
    assert lines > 10_000 and labelled
    assert not repeats, repeats[:5]


def test_the_clean_city_holds_near_misses(city: tuple) -> None:
    """Just inside each threshold, unlabelled: a readmission a day or more past the window,
    a drug at the outpatient limit, a price at the cap, a sex-restricted item on the right
    sex, a stay with fewer idle days than bed-hogging needs."""
    params, builder, _insts = city
    kb = demo_kb()
    labelled = {lb.visit_no for lb in builder.labels}
    persons = {p.psn_no: p for p in make_persons(params)}
    clean = [v for v in builder.visits if v.visit_no not in labelled]
    caps = {r["hilist_code"]: Decimal(r["max_pric"]) for r in kb.tables["price_limits"]}
    found: Counter[str] = Counter()
    stays: dict[str, list] = {}
    by_person: dict[str, list] = {}
    for v in builder.visits:
        by_person.setdefault(v.psn_no, []).append(v)
        if v.kind == "inpatient":
            stays.setdefault(v.psn_no, []).append(v)
    for v in clean:
        p = persons[v.psn_no]
        codes = [c for c, _n in v.diagnoses]
        for ln in v.lines:
            item = ITEMS.get(ln.hilist_name)
            if item is not None and item.diag_codes:
                assert any(c.startswith(item.diag_codes) for c in codes), (v.visit_no, item.name)
                found["restricted drug on its indication"] += 1
            if v.kind == "pharmacy" and ln.list_type == "301":
                found["catalog consumable at a pharmacy"] += 1
            take_home = v.kind != "inpatient" and ln.prd_days
            if take_home and held_on(by_person[v.psn_no], v, ln) == kb.holding_days:
                found["refill with the grace days left"] += 1
            if v.med_type == "11" and ln.prd_days == kb.max_days("11"):
                found["drug at the limit"] += 1
            if ln.hilist_code in caps and ln.pric == caps[ln.hilist_code] != item.price:
                found["price at the cap"] += 1
            if item is not None and item.gend == p.gend and v.kind == "outpatient":
                found["sex item, right sex"] += 1
            if item is not None and item.hosp_lv and v.hosp_lv in item.hosp_lv:
                found["level item, right level"] += 1
        if v.kind == "inpatient":
            before = [x for x in stays[v.psn_no] if x.endtime <= v.begntime]
            if before:
                gap = (v.begntime.date() - max(x.endtime for x in before).date()).days
                if kb.readmission_days < gap <= kb.readmission_days + 5:
                    found["readmission past the window"] += 1
    for what in (
        "drug at the limit", "price at the cap", "sex item, right sex",
        "level item, right level", "readmission past the window",
        "restricted drug on its indication", "catalog consumable at a pharmacy",
        "refill with the grace days left",
    ):  # fmt: skip
        assert found[what], what


def test_the_knowledge_base_matches_the_catalog() -> None:
    """The thresholds come from one file; its codes are the simulator's catalog's and its
    price limits the catalog's caps."""
    kb = demo_kb()
    by_code = {i.code: i for i in BUILTIN_ITEMS}
    for row in kb.tables["price_limits"]:
        assert Decimal(row["max_pric"]) == by_code[row["hilist_code"]].cap
    for row in kb.tables["item_pairs"]:
        assert row["hilist_code_a"] in by_code and row["hilist_code_b"] in by_code
        assert row["relation"] in ("includes", "excludes")
    for code, procs in kb.consumable_links.items():
        assert code in by_code and all(p in by_code for p in procs)
    for bundle, parts in kb.bundles:
        assert sum(by_code[c].price for c in parts) > by_code[bundle].price
    # the review's knowledge base reads the same file, every table of it
    rows = rows_from_document(kb.tables)
    assert all(rows[t] for t in ("item_pairs", "bundles", "price_limits", "drug_limits",
                                 "frequency_limits", "windows", "consumable_links"))  # fmt: skip
    assert kb.max_days("11") == 7 and kb.max_days("14") == 30 and kb.frequent_visits == (30, 10)


def test_a_stay_is_billed_day_by_day_as_the_ward_orders(city: tuple) -> None:
    """Bed, nursing and the round every day; an infused day's further groups; the ward's own
    orders; an operation's anaesthesia and the monitoring after it; a chronic condition's
    home drug every day, with its diagnosis on the record."""
    _params, builder, _insts = city
    persons = {p.psn_no: p for p in make_persons(CityParams(seed=9, persons=3000))}
    labelled = {lb.visit_no for lb in builder.labels}  # duplicates and overpricing add lines
    stays = [v for v in builder.visits if v.kind == "inpatient" and v.visit_no not in labelled]
    assert stays
    seen: Counter[str] = Counter()
    for v in stays:
        assert v.endtime is not None
        los = (v.endtime.date() - v.begntime.date()).days
        names = Counter(ln.hilist_name for ln in v.lines)
        main = v.diagnoses[0][0]
        # the round every day but a near-miss's idle days (fewer than bed-hogging's)
        assert names["床位费(三人间)"] == los
        assert 0 <= los - names["住院诊查费"] < demo_kb().bed_only_days
        los = names["住院诊查费"]  # the days the ward cared for the patient
        if names["静脉输液"]:  # (a near-miss may repeat a service line an hour later)
            assert abs(names["静脉输液(每组加收)"] - names["静脉输液"]) <= 1
        if main == "I63.900":  # stroke: monitored while acute, glucose and mouth care daily
            assert names["心电监测"] >= 3 and names["口腔护理"] == los
            seen["stroke"] += 1
        if main in ("K35.800", "S52.500"):  # general anaesthesia, then the wound dressed
            assert names["全身麻醉"] == names["麻醉中监测"] == 1 and names["导尿"] == 1
            seen["general"] += 1
        if main == "O80.000":  # a normal delivery: no anaesthesia, perineal care daily
            assert not names["全身麻醉"] and names["会阴护理"] == los
        person = persons[v.psn_no]
        if "diabetes" in person.chronic:
            assert "E11.900" in [c for c, _n in v.diagnoses]
            assert names["盐酸二甲双胍片"] == los and names["末梢血糖测定"] == los
            seen["diabetic"] += 1
        for ln in v.lines:
            if ln.hilist_name == "静脉采血":  # one draw a time, for chemistry labs only
                at = [x for x in v.lines if x.fee_ocur_time == ln.fee_ocur_time]
                assert sum(x.hilist_name == "静脉采血" for x in at) == 1
    assert seen["stroke"] and seen["general"] and seen["diabetic"]


def test_the_city_bills_average_eight_fee_lines() -> None:
    """The load's city (ten settlements a person and year): outpatient bills with their labs
    analyte by analyte, pharmacy purchases of a few items, stays of about 150 lines."""
    params = CityParams(seed=7, persons=6000, institutions=200, settlements=60_000)
    insts = make_institutions(params)
    persons = list(make_persons(params))
    ctx = CityContext(params, insts, scale=size_city(params, persons))
    visits = build_chunk(ctx, 0, persons).visits
    lines = sum(len(v.lines) for v in visits)
    assert 8.0 <= lines / len(visits) < 8.6
    stays = [v for v in visits if v.kind == "inpatient"]
    assert 120 < sum(len(v.lines) for v in stays) / len(stays) < 200
    pharmacy = [v for v in visits if v.kind == "pharmacy"]
    assert sum(len(v.lines) for v in pharmacy) / len(pharmacy) < 3.5


def test_a_person_is_in_one_place_at_a_time(city: tuple) -> None:
    """No visit falls into a stay, no two stays overlap or follow within the readmission
    window, no two outpatient visits share a day — unless a label (or a near-miss) is about
    exactly that."""
    _params, builder, _insts = city
    kb = demo_kb()
    about = set(builder._keep)
    for lb in builder.labels:
        if lb.category in (
            "split_admission",
            "outpatient_during_stay",
            "same_day_multi_visit",
            "card_misuse",
        ):
            about.add(lb.visit_no)
            about.update(int(n) for n in re.findall(r"#(\d+)", lb.detail))
    by_person: dict[str, list] = {}
    for v in builder.visits:
        by_person.setdefault(v.psn_no, []).append(v)
    clashes = []
    for visits in by_person.values():
        stays = [v for v in visits if v.kind == "inpatient"]
        for s in stays:
            a, b = s.begntime.date(), s.endtime.date()
            for v in visits:
                if v is s or {v.visit_no, s.visit_no} & about:
                    continue
                d = v.begntime.date()
                if v.kind != "inpatient" and a <= d <= b:
                    clashes.append(("in a stay", s.visit_no, v.visit_no))
                later = v.kind == "inpatient" and v.begntime > s.begntime
                if later and d <= b + timedelta(days=kb.readmission_days):
                    clashes.append(("stays", s.visit_no, v.visit_no))
        days = Counter(
            v.begntime.date() for v in visits if v.kind == "outpatient" and v.visit_no not in about
        )
        clashes += [("same day", d, n) for d, n in days.items() if n > 1]
    assert not clashes, clashes[:5]
    assert len(builder.visits) > 10_000
