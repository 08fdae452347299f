"""The city's visits: byte-for-byte determinism, realistic bills, labelled anomalies at the
configured rates."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

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
