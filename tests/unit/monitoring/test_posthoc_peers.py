"""Peer outliers, Benford and collusion groups on a tiny replica."""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from posthoc_city import City

from yibao.monitoring import groups, peers
from yibao.monitoring.model import Thresholds
from yibao.monitoring.stats import BENFORD, benford_mad, first_digit, robust_z

T = Thresholds()
JAN1, MAR31 = date(2026, 1, 1), date(2026, 3, 31)


def test_robust_z_and_benford_measures() -> None:
    assert robust_z(10.0, [1.0, 1.0, 1.0, 1.0]) == float("inf")
    assert robust_z(1.0, [1.0, 1.0, 1.0]) == 0.0
    assert abs(robust_z(3.0, [1.0, 2.0, 3.0, 4.0, 5.0])) < 1e-9
    assert first_digit(123456) == 1 and first_digit(9) == 9 and first_digit(0) is None
    assert benford_mad([round(p * 10_000) for p in BENFORD]) < 0.0001
    assert benford_mad([100] * 9) > 0.03  # uniform first digits


def _clinics(city: City, rng: random.Random, n: int) -> list[str]:
    codes = [city.institution(f"C{i:02d}") for i in range(n)]
    for code in codes:
        for k in range(60):
            fee = rng.lognormvariate(4.5, 0.8)
            city.visit(f"{code}-p{k % 40}", code, datetime(2026, 1, 1) + timedelta(hours=k * 7),
                       medfee=f"{fee:.2f}", drug=f"{fee * 0.4:.2f}", exam=f"{fee * 0.2:.2f}",
                       mcs=f"{fee * 0.05:.2f}")  # fmt: skip
    return codes


def test_an_up_coding_clinic_stands_out_from_its_peers() -> None:
    rng = random.Random(1)
    city = City()
    _clinics(city, rng, 10)
    up = city.institution("CUP")
    for k in range(60):
        fee = rng.lognormvariate(4.5, 0.8) * 3  # everything ordered, senior consultations
        city.visit(f"u{k % 40}", up, datetime(2026, 1, 1) + timedelta(hours=k * 7),
                   medfee=f"{fee:.2f}", drug=f"{fee * 0.2:.2f}", exam=f"{fee * 0.6:.2f}")  # fmt: skip
    hits = peers.peer_outliers(city.con, JAN1, MAR31, T)
    assert [h.fixmedins_code for h in hits] == ["CUP"]
    metrics = {m["metric"] for m in hits[0].evidence["metrics"]}
    assert "exam_share" in metrics
    assert hits[0].evidence["isolation_forest_rank"] == 1


def _hospitals(city: City, rng: random.Random, n: int, *, odd: str | None = None) -> None:
    """`n` level-2 hospitals with an internal medicine (A03) and a surgery (A04) department,
    two doctors each; `odd` names a doctor (hospital|caty|doctor) who bills 2.5 times as much
    per visit as everyone else."""
    for i in range(n):
        code = city.institution(f"H{i:02d}", "hospital", "2")
        for caty in ("A03", "A04"):
            for doctor in ("1", "2"):
                who = f"{code}|{caty}|D{doctor}"
                scale = 2.5 if who == odd else 1.0
                for k in range(40):
                    fee = rng.lognormvariate(5.0, 0.3) * scale
                    city.visit(f"{who}-p{k % 30}", code,
                               datetime(2026, 1, 1) + timedelta(hours=k * 11),
                               medfee=f"{fee:.2f}", drug=f"{fee * 0.4:.2f}",
                               exam=f"{fee * 0.2:.2f}", caty=caty, dr=f"D{doctor}")  # fmt: skip


def test_a_department_and_a_doctor_stand_out_from_their_peers_where_the_hospital_does_not() -> None:
    rng = random.Random(11)
    city = City()
    _hospitals(city, rng, 8, odd="H03|A04|D2")
    every = replace(T, peer_levels=("institution", "department", "doctor"))
    assert not peers.peer_outliers(city.con, JAN1, MAR31, T)  # departments and doctors: off
    hits = peers.peer_outliers(city.con, JAN1, MAR31, every)
    levels = {
        (h.evidence["level"], h.fixmedins_code, h.evidence.get("caty"), h.evidence.get("dr_code"))
        for h in hits
    }
    # a quarter of the hospital's visits at 2.5 times the cost (1.4 times in all): not enough
    # to flag it whole; its surgery (1.75 times) and that doctor are
    assert levels == {("department", "H03", "A04", None), ("doctor", "H03", "A04", "D2")}
    doctor = next(h for h in hits if h.evidence["level"] == "doctor")
    assert doctor.evidence["peer_group"] == {
        "kind": "hospital",
        "hosp_lv": "2",
        "caty": "A04",
        "visit_kind": "outpatient",
        "size": 16,
    }
    assert doctor.rule_id == "POST-PEER-DOCTOR"
    found = doctor.evidence["metrics"][0]
    # its cases priced as they cost at its peers' level: 2.5 times that
    assert found["metric"] == "cost_index" and 2.0 < found["value"] < 3.0
    assert doctor.key.startswith("H03|dr:A04|D2|outpatient|")
    # a rerun finds the same hits (their ids are what was found)
    assert {h.hit_id for h in peers.peer_outliers(city.con, JAN1, MAR31, every)} == {
        h.hit_id for h in hits
    }


def test_benford_flags_made_up_totals_not_natural_ones() -> None:
    rng = random.Random(2)
    city = City()
    for i in range(8):
        code = city.institution(f"P{i}", "pharmacy")
        for k in range(300):
            fee = rng.lognormvariate(4.0, 1.2)  # spans decades: close to Benford
            city.visit(
                f"x{k}", code, datetime(2026, 1, 1) + timedelta(hours=k), medfee=f"{fee:.2f}"
            )
    fake = city.institution("PFAKE", "pharmacy")
    for k in range(300):
        fee = rng.uniform(100, 999)  # first digits uniform
        city.visit(f"y{k}", fake, datetime(2026, 1, 1) + timedelta(hours=k), medfee=f"{fee:.2f}")
    hits = peers.benford_outliers(city.con, JAN1, MAR31, T)
    assert [h.fixmedins_code for h in hits] == ["PFAKE"]
    assert hits[0].evidence["mad"] > T.benford_mad


def test_a_ring_visiting_together_is_one_group() -> None:
    rng = random.Random(3)
    city = City()
    clinic = city.institution("C1")
    ring = [f"r{i}" for i in range(6)]
    for d in (date(2026, 1, 5), date(2026, 1, 19), date(2026, 2, 2), date(2026, 2, 16)):
        for p in ring:
            city.visit(p, clinic, datetime.combine(d, datetime.min.time()).replace(hour=9))
    for k in range(300):  # ordinary patients, a few visits each on their own days
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(85))
        city.visit(
            f"o{k % 80}", clinic, datetime.combine(day, datetime.min.time()).replace(hour=10)
        )
    hits = groups.clustered_visits(city.con, JAN1, MAR31, T)
    assert len(hits) == 1
    assert hits[0].evidence["members"] == ring and len(hits[0].evidence["days"]) == 4
    assert len(hits[0].evidence["visits"]) == 24


def test_a_clinic_a_little_dearer_than_a_tight_group_is_no_peer_outlier() -> None:
    """Far in MADs but not materially above its peers (a fifth dearer): not flagged; a clinic
    with many repeat patients (人次人头比) is reported, never flagged on that alone."""
    city = City()
    for i in range(10):
        code = city.institution(f"C{i:02d}")
        for k in range(60):
            fee = 100 + (k % 7) + i * 0.2  # the group agrees to the yuan
            city.visit(f"{code}-p{k % 40}", code, datetime(2026, 1, 1) + timedelta(hours=k * 7),
                       medfee=f"{fee:.2f}", drug=f"{fee * 0.4:.2f}", exam=f"{fee * 0.2:.2f}")  # fmt: skip
    dearer = city.institution("CDEAR")
    regulars = city.institution("CREG")
    for k in range(60):
        fee = 120 + (k % 7)
        city.visit(f"d{k % 40}", dearer, datetime(2026, 1, 1) + timedelta(hours=k * 7),
                   medfee=f"{fee:.2f}", drug=f"{fee * 0.4:.2f}", exam=f"{fee * 0.2:.2f}")  # fmt: skip
        city.visit(f"r{k % 8}", regulars, datetime(2026, 1, 1) + timedelta(hours=k * 7),
                   medfee="102.00", drug="40.80", exam="20.40")  # fmt: skip
    loose = Thresholds(robust_z=3.5, min_ratio=1.0, min_share_gap=0.0)
    assert {h.fixmedins_code for h in peers.peer_outliers(city.con, JAN1, MAR31, loose)} == {
        "CDEAR"
    }
    assert peers.peer_outliers(city.con, JAN1, MAR31, T) == []
    metrics = peers.institution_metrics(city.con, JAN1, MAR31)
    assert next(m for m in metrics if m["fixmedins_code"] == "CREG")["visits_per_person"] == 7.5


def test_benford_leaves_a_group_whose_amounts_follow_a_price_list() -> None:
    """Clinics billing a consultation and a fixed-price test or two: every clinic's totals
    start with the same few digits, its peers' too — no test there, however far one lies."""
    rng = random.Random(4)
    city = City()
    for i in range(8):
        code = city.institution(f"C{i}")
        for k in range(300):
            fee = rng.choice((12, 15, 18, 110, 130, 25, 35, 48, 65, 72, 88)) + rng.random()
            city.visit(
                f"x{k}", code, datetime(2026, 1, 1) + timedelta(hours=k), medfee=f"{fee:.2f}"
            )
    odd = city.institution("CODD")
    for k in range(300):
        fee = rng.uniform(500, 599)  # one price, far from its peers' digits
        city.visit(f"y{k}", odd, datetime(2026, 1, 1) + timedelta(hours=k), medfee=f"{fee:.2f}")
    assert peers.benford_outliers(city.con, JAN1, MAR31, T) == []
    # the same institutions as pharmacies among Benford-following peers: tested, flagged
    for i in range(8):
        code = city.institution(f"P{i}", "pharmacy")
        for k in range(300):
            fee = rng.lognormvariate(4.0, 1.2)
            city.visit(
                f"z{k}", code, datetime(2026, 1, 1) + timedelta(hours=k), medfee=f"{fee:.2f}"
            )
    fake = city.institution("PFIVE", "pharmacy")
    for k in range(300):
        fee = rng.uniform(500, 599)
        city.visit(f"w{k}", fake, datetime(2026, 1, 1) + timedelta(hours=k), medfee=f"{fee:.2f}")
    assert [h.fixmedins_code for h in peers.benford_outliers(city.con, JAN1, MAR31, T)] == ["PFIVE"]


def test_one_extreme_bill_does_not_make_a_clinic_a_peer_outlier() -> None:
    """A clinic's one ¥34,000 albumin bill among sixty ordinary visits lifts its mean cost
    per visit far above its peers'; winsorised at the peer group's 99.5th percentile, its
    ordinary work is what is compared — up-coding (every visit dearer) still stands out."""
    rng = random.Random(5)
    city = City()
    _clinics(city, rng, 12)
    odd = city.institution("CALB")
    up = city.institution("CUP")
    for k in range(60):
        when = datetime(2026, 1, 1) + timedelta(hours=k * 7)
        fee = rng.lognormvariate(4.5, 0.8)
        city.visit(f"a{k % 40}", odd, when, medfee=f"{fee:.2f}", drug=f"{fee * 0.4:.2f}",
                   exam=f"{fee * 0.2:.2f}", mcs=f"{fee * 0.05:.2f}")  # fmt: skip
        fee = rng.lognormvariate(4.5, 0.8) * 3
        city.visit(f"u{k % 40}", up, when, medfee=f"{fee:.2f}", drug=f"{fee * 0.2:.2f}",
                   exam=f"{fee * 0.6:.2f}")  # fmt: skip
    city.visit("a0", odd, datetime(2026, 2, 1, 9), medfee="34000.00", drug="33000.00")
    assert [h.fixmedins_code for h in peers.peer_outliers(city.con, JAN1, MAR31, T)] == ["CUP"]
    as_billed = replace(T, winsor=1.0)
    flagged = {h.fixmedins_code for h in peers.peer_outliers(city.con, JAN1, MAR31, as_billed)}
    assert flagged == {"CUP", "CALB"}
    hit = peers.peer_outliers(city.con, JAN1, MAR31, T)[0]
    assert hit.evidence["winsor_quantile"] == 0.995 and hit.evidence["capped_bills"] >= 0


def test_a_department_with_a_drug_heavy_bill_or_two_is_no_peer_outlier() -> None:
    """Departments see a few dozen visits: two drug-heavy bills turn one department's drug
    share into three times its peers' though its other work is ordinary. A department must
    stay a deviation without its two costliest cases (over what they cost elsewhere); the
    doctor who bills every visit 2.5 times over still does."""
    rng = random.Random(11)
    city = City()
    _hospitals(city, rng, 8, odd="H03|A04|D2")
    for n in range(2):
        city.visit(f"x{n}", "H05", datetime(2026, 2, 1 + n, 9), medfee="9000.00",
                   drug="8800.00", caty="A03", dr="D1")  # fmt: skip
    # winsorising off (the institution level would flag H05 whole then): what keeps its
    # department out here is leaving its two costliest cases out
    every = replace(T, peer_levels=("department", "doctor"), winsor=1.0)
    found = {
        (h.evidence["level"], h.fixmedins_code, h.evidence.get("caty"), h.evidence.get("dr_code"))
        for h in peers.peer_outliers(city.con, JAN1, MAR31, every)
    }
    assert found == {("department", "H03", "A04", None), ("doctor", "H03", "A04", "D2")}
    keep_all = replace(every, drop_costliest=0)
    found_all = {
        (h.evidence["level"], h.fixmedins_code, h.evidence.get("caty"))
        for h in peers.peer_outliers(city.con, JAN1, MAR31, keep_all)
    }
    assert ("department", "H05", "A03") in found_all
