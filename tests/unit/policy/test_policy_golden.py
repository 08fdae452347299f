"""The golden examples of reference/domain.md §1.6, exactly."""

from __future__ import annotations

from decimal import Decimal

from policy_factories import (
    D,
    a_line,
    apply,
    check_identities,
    demo_book,
    line,
    person,
    terms,
    visit,
)

from yibao.codes.dicts import ChrgitmLv, FundPayType, HospLv, MedType, PsnType
from yibao.policy import AccKey, negate, settle

EMPLOYEE = person(PsnType.EMPLOYEE_IN_SERVICE, balc="500.00")
OTP_L2 = visit(MedType.GENERAL_OUTPATIENT, HospLv.LEVEL_2)


def test_a_visit_1() -> None:
    s = settle([a_line("1", "3000.00")], EMPLOYEE, OTP_L2, {}, demo_book())
    check_identities(s, EMPLOYEE)
    assert s.inscp_scp_amt == D("3000.00")
    assert s.act_pay_dedc == D("1800.00")
    assert s.hifp_pay == D("840.00")
    assert s.fund_pay_sumamt == D("840.00")
    assert s.psn_part_amt == D("2160.00")
    assert s.acct_pay == D("500.00")
    assert s.psn_cash_pay == D("1660.00")
    assert s.balc == D("0.00")
    assert s.pool_prop_selfpay == D("0.70")
    assert s.accumulator_delta == {
        AccKey.dedc_used("otp"): D("1800.00"),
        AccKey.inscp("otp"): D("3000.00"),
        AccKey.pool_paid("otp"): D("840.00"),
    }
    assert [(d.fund_pay_type, d.fund_payamt) for d in s.setldetail] == [
        (FundPayType.EMPLOYEE_POOL, D("840.00")),
        (FundPayType.EMPLOYEE_ACCOUNT, D("500.00")),
    ]


def test_a_visit_2_after_visit_1() -> None:
    book = demo_book()
    v1 = settle([a_line("1", "3000.00")], EMPLOYEE, OTP_L2, {}, book)
    acc = apply({}, v1.accumulator_delta)
    after_v1 = person(PsnType.EMPLOYEE_IN_SERVICE, balc=str(v1.balc))
    v2 = settle([a_line("1", "1000.00")], after_v1, OTP_L2, acc, book)
    check_identities(v2, after_v1)
    assert v2.act_pay_dedc == D("0.00")
    assert v2.hifp_pay == D("700.00")
    assert v2.psn_part_amt == D("300.00")
    assert v2.acct_pay == D("0.00")
    assert v2.psn_cash_pay == D("300.00")


def test_a_reversal_restores_balance_and_deductible() -> None:
    book = demo_book()
    v1 = settle([a_line("1", "3000.00")], EMPLOYEE, OTP_L2, {}, book)
    acc = apply({}, v1.accumulator_delta)
    rev = negate(v1)
    assert rev.balc == D("500.00")
    assert rev.medfee_sumamt == D("-3000.00")
    assert rev.hifp_pay == D("-840.00")
    assert rev.acct_pay == D("-500.00")
    assert rev.psn_cash_pay == D("-1660.00")
    assert rev.act_pay_dedc == D("-1800.00")
    assert rev.pool_prop_selfpay == D("0.70")  # a ratio is not negated
    restored = apply(acc, rev.accumulator_delta)
    assert restored == {}  # deductible used back to 0, and everything else
    # Visit 2 re-settled afterwards consumes 1,000.00 of deductible and pays 0.00.
    v2 = settle([a_line("1", "1000.00")], person(balc=str(rev.balc)), OTP_L2, restored, book)
    assert v2.act_pay_dedc == D("1000.00")
    assert v2.hifp_pay == D("0.00")
    assert v2.psn_part_amt == D("1000.00")
    assert v2.acct_pay == D("500.00")


def test_a_reverse_both_then_resettle_visit_2() -> None:
    """Visit 1 and 2 settled, then both reversed (newest first) and visit 2 settled again."""
    book = demo_book()
    v1 = settle([a_line("1", "3000.00")], EMPLOYEE, OTP_L2, {}, book)
    acc1 = apply({}, v1.accumulator_delta)
    v2 = settle([a_line("1", "1000.00")], person(balc="0.00"), OTP_L2, acc1, book)
    acc2 = apply(acc1, v2.accumulator_delta)
    acc = apply(apply(acc2, negate(v2).accumulator_delta), negate(v1).accumulator_delta)
    assert acc == {}
    again = settle([a_line("1", "1000.00")], EMPLOYEE, OTP_L2, acc, book)
    assert (again.act_pay_dedc, again.hifp_pay) == (D("1000.00"), D("0.00"))


def test_negate_twice_is_identity() -> None:
    v1 = settle([a_line("1", "3000.00")], EMPLOYEE, OTP_L2, {}, demo_book())
    assert negate(negate(v1)) == v1


def test_b_resident_inpatient_first_admission() -> None:
    resident = person(PsnType.ADULT_RESIDENT)
    lines = [
        a_line("1", "8000.00"),
        line("2", "2000.00", terms(ChrgitmLv.CLASS_B, "0.10")),
    ]
    s = settle(lines, resident, visit(MedType.GENERAL_INPATIENT, HospLv.LEVEL_3), {}, demo_book())
    check_identities(s, resident)
    assert s.medfee_sumamt == D("10000.00")
    assert s.preselfpay_amt == D("200.00")
    assert s.inscp_scp_amt == D("9800.00")
    assert s.act_pay_dedc == D("1300.00")
    assert s.hifp_pay == D("6375.00")
    assert s.psn_part_amt == D("3625.00")
    assert s.psn_cash_pay == D("3625.00")
    assert s.acct_pay == D("0.00")
    assert s.hifp_pay + s.psn_part_amt == D("10000.00")
    assert s.setldetail[0].fund_pay_type is FundPayType.RESIDENT_POOL
    assert s.accumulator_delta[AccKey.IPT_ADMISSIONS] == Decimal(1)
    assert s.visit_class == "inpatient"
    assert s.policy_version == "110199@2023-01-01#res-ipt"
