"""The city's visits: byte-for-byte determinism, realistic bills, labelled anomalies at the
configured rates."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from yibao.simulate.bulk import size_city
from yibao.simulate.context import CityContext
from yibao.simulate.export import city_files
from yibao.simulate.model import ANOMALY_KINDS, CityParams
from yibao.simulate.people import make_institutions, make_persons
from yibao.simulate.visits import build_chunk, institution_labels

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
    rates["cost_outlier_institution"] = 0.25
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
    for v in visits:
        assert v.lines and v.total > 0
        assert params.start <= v.begntime.date() < end + timedelta(days=30)
        assert v.diagnoses or v.kind == "pharmacy"
        for ln in v.lines:
            assert ln.det_item_fee_sumamt == (ln.cnt * ln.pric).quantize(ln.det_item_fee_sumamt)
        if v.kind == "inpatient":
            assert v.endtime is not None and v.endtime > v.begntime
            assert any(ln.hilist_name.startswith("床位费") for ln in v.lines)
        if v.kind == "pharmacy":
            assert all(ln.list_type.startswith("10") for ln in v.lines)
    chronic = [v for v in visits if v.med_type == "14"]
    assert chronic and all(
        any(ln.prd_days == 30 for ln in v.lines) for v in chronic if len(v.lines) > 1
    )


def test_every_anomaly_is_labelled_at_about_its_rate(city: tuple) -> None:
    params, builder, insts = city
    labels = builder.labels + institution_labels(insts)
    by_kind = Counter(lb.anomaly for lb in labels)
    assert set(by_kind) == set(ANOMALY_KINDS)
    # visit-level kinds: one label per hit, eligible units counted by the generator
    for kind in (
        "readmission_15d", "same_day_visits", "otp_during_ipt", "sex_restricted_item",
        "age_restricted_item", "over_quantity", "price_above_cap", "duplicate_billing",
    ):  # fmt: skip
        rate = by_kind[kind] / builder.units[kind]
        assert 0.4 * 0.04 < rate < 1.8 * 0.04, (kind, rate, builder.units[kind])
    # person-level kinds: distinct persons
    for kind in ("frequent_visits", "group_visits"):
        persons = {lb.psn_no for lb in labels if lb.anomaly == kind}
        assert 0.4 * 0.04 < len(persons) / params.persons < 1.8 * 0.04, kind
    visit_nos = {v.visit_no for v in builder.visits}
    assert all(lb.visit_no in visit_nos for lb in labels if lb.visit_no)
    outliers = [i for i in insts if i.cost_outlier]
    assert by_kind["cost_outlier_institution"] == len(outliers)


def test_labelled_anomalies_are_what_they_say(city: tuple) -> None:
    _params, builder, _insts = city
    visits = {v.visit_no: v for v in builder.visits}
    persons = {p.psn_no: p for p in make_persons(CityParams(seed=9, persons=3000))}
    for lb in builder.labels:
        v = visits[lb.visit_no]
        p = persons[v.psn_no]
        if lb.anomaly == "readmission_15d":
            stays = sorted(
                (x for x in builder.visits if x.psn_no == p.psn_no and x.kind == "inpatient"),
                key=lambda x: x.begntime,
            )
            before = [x for x in stays if x.endtime and x.endtime <= v.begntime]
            assert before and (v.begntime - before[-1].endtime).days <= 15
        elif lb.anomaly == "same_day_visits":
            same = [
                x for x in builder.visits
                if x.psn_no == p.psn_no and x.begntime.date() == v.begntime.date()
            ]  # fmt: skip
            assert len(same) >= 2
        elif lb.anomaly == "otp_during_ipt":
            assert any(
                x.kind == "inpatient" and x.begntime < v.begntime and x.endtime > v.begntime
                for x in builder.visits
                if x.psn_no == p.psn_no
            ) or any(
                x.kind == "inpatient" and x.begntime.date() <= v.begntime.date() <= x.endtime.date()
                for x in builder.visits
                if x.psn_no == p.psn_no
            )
        elif lb.anomaly == "over_quantity":
            assert any((ln.prd_days or 0) > 7 for ln in v.lines)
        elif lb.anomaly == "duplicate_billing":
            codes = Counter(ln.hilist_code for ln in v.lines)
            assert max(codes.values()) >= 2


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
        assert names["床位费(三人间)"] == names["住院诊查费"] == los
        if names["静脉输液"]:
            assert names["静脉输液(每组加收)"] == names["静脉输液"]
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
