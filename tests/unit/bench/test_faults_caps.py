"""The campaign's cap check (issue 23): an accumulator above the cap the policy book gives for
the person's insurance is a finding; at the cap, or on a counter without a cap, it is not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from yibao.bench.faults.caps import Accumulated, SettledTerms, annual_caps, cap_breaches
from yibao.policy import load_book

BOOK = load_book()


def _settled(psn_no: str, insutype: str, psn_type: str, med_type: str) -> SettledTerms:
    return SettledTerms(
        psn_no=psn_no,
        insutype=insutype,
        psn_type=psn_type,
        med_type=med_type,
        hosp_lv="3",
        insuplc_admdvs="110199",
        setl_date=date(2026, 5, 1),
        year=2026,
        age=40,
    )


EMPLOYEE_IPT = _settled("P1", "310", "1101", "21")
RESIDENT_OTP = _settled("P2", "390", "1401", "11")


def test_the_book_gives_each_counter_its_cap() -> None:
    caps, unresolved = annual_caps(BOOK, [EMPLOYEE_IPT, RESIDENT_OTP], {})
    assert unresolved == []
    assert caps[("P1", "310", 2026, "ipt.pool_paid")] == Decimal(100000)
    assert caps[("P1", "310", 2026, "hifob.paid")] == Decimal(400000)
    assert caps[("P2", "390", 2026, "otp.pool_paid")] == Decimal(3000)


def test_above_the_cap_is_a_breach_at_the_cap_is_not() -> None:
    at = [
        Accumulated("P1", 2026, "310:ipt.pool_paid", Decimal("100000.00")),
        Accumulated("P2", 2026, "390:otp.pool_paid", Decimal("3000.00")),
        Accumulated("P2", 2026, "390:otp.inscp", Decimal("999999.00")),  # no cap on an axis
    ]
    assert cap_breaches(BOOK, [EMPLOYEE_IPT, RESIDENT_OTP], at, {}) == []
    above = [
        Accumulated("P1", 2026, "310:ipt.pool_paid", Decimal("100000.01")),
        Accumulated("P1", 2026, "310:hifob.paid", Decimal("400000.01")),
        Accumulated("P2", 2026, "390:otp.pool_paid", Decimal("3000.01")),
    ]
    found = cap_breaches(BOOK, [EMPLOYEE_IPT, RESIDENT_OTP], above, {})
    assert len(found) == 3
    assert not any("P1" in f or "P2" in f for f in found)  # the person is withheld


def test_a_cap_in_another_year_or_insurance_does_not_apply() -> None:
    other = [
        Accumulated("P1", 2025, "310:ipt.pool_paid", Decimal("200000.00")),
        Accumulated("P1", 2026, "390:ipt.pool_paid", Decimal("200000.00")),
    ]
    assert cap_breaches(BOOK, [EMPLOYEE_IPT], other, {}) == []


def test_a_settlement_the_book_cannot_place_is_a_finding() -> None:
    nowhere = SettledTerms("P3", "310", "1101", "21", "3", "999999", date(2026, 5, 1), 2026, 40)
    found = cap_breaches(BOOK, [nowhere], [], {})
    assert len(found) == 1 and "no rules" in found[0]
