"""Worked examples for each insurance and person type under the demo region (110199).

Every expected figure is worked by hand in the comment above its assertion.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
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

from yibao.codes.dicts import (
    ChrgitmLv,
    FundPayType,
    HospLv,
    Insutype,
    MedType,
    PsnIdetType,
    PsnType,
)
from yibao.policy import (
    AccKey,
    PersonTerms,
    PolicyRefusal,
    SettlementSplit,
    VisitTerms,
    book_from_texts,
    settle,
)
from yibao.policy.model import FeeLineIn

OTP = MedType.GENERAL_OUTPATIENT
IPT = MedType.GENERAL_INPATIENT


def run(
    lines: list[FeeLineIn],
    p: PersonTerms,
    v: VisitTerms,
    acc: dict[str, Decimal] | None = None,
) -> SettlementSplit:
    s = settle(lines, p, v, acc or {}, demo_book())
    check_identities(s, p)
    return s


def fund(s: SettlementSplit, kind: FundPayType) -> Decimal:
    return sum((d.fund_payamt for d in s.setldetail if d.fund_pay_type is kind), D("0"))


# ------------------------------------------------------------------ employees, outpatient


def test_retired_under_70_hospital_85() -> None:
    p = person(PsnType.EMPLOYEE_RETIRED, age=65, balc="1000.00")
    s = run([a_line("1", "5000.00")], p, visit(OTP, HospLv.LEVEL_3))
    # deductible 1300; (5000 − 1300) × 85 % = 3145.00
    assert (s.act_pay_dedc, s.hifp_pay, s.psn_part_amt) == (
        D("1300.00"),
        D("3145.00"),
        D("1855.00"),
    )
    assert (s.acct_pay, s.psn_cash_pay, s.balc) == (D("1000.00"), D("855.00"), D("0.00"))
    assert s.policy_version.endswith("#emp-retired-otp")


@pytest.mark.parametrize("lv", [HospLv.LEVEL_1, HospLv.LEVEL_3])
def test_retired_70_and_over_90_everywhere(lv: HospLv) -> None:
    p = person(PsnType.EMPLOYEE_RETIRED, age=70)
    s = run([a_line("1", "5000.00")], p, visit(OTP, lv))
    # (5000 − 1300) × 90 % = 3330.00
    assert s.hifp_pay == D("3330.00")
    assert s.pool_prop_selfpay == D("0.90")
    assert s.policy_version.endswith("#emp-retired-70-otp")


def test_retired_community_90_under_70() -> None:
    s = run(
        [a_line("1", "5000.00")],
        person(PsnType.EMPLOYEE_RETIRED, age=60),
        visit(OTP, HospLv.LEVEL_1),
    )
    assert s.hifp_pay == D("3330.00")


def test_in_service_community_90() -> None:
    s = run([a_line("1", "3000.00")], person(), visit(OTP, HospLv.LEVEL_1))
    # (3000 − 1800) × 90 % = 1080.00
    assert s.hifp_pay == D("1080.00")


def test_in_service_crossing_the_20000_band() -> None:
    acc = {AccKey.dedc_used("otp"): D("1800.00"), AccKey.inscp("otp"): D("19000.00")}
    s = run([a_line("1", "3000.00")], person(), visit(OTP, HospLv.LEVEL_2), acc)
    # [19000, 20000) × 70 % + [20000, 22000) × 60 % = 700 + 1200 = 1900.00
    assert s.act_pay_dedc == D("0.00")
    assert s.hifp_pay == D("1900.00")
    assert s.pool_prop_selfpay == D("0.70")
    assert s.setldetail[0].setl_proc_info is not None
    assert "60%" in s.setldetail[0].setl_proc_info


def test_retired_above_20000_80() -> None:
    acc = {AccKey.dedc_used("otp"): D("1300.00"), AccKey.inscp("otp"): D("25000.00")}
    s = run(
        [a_line("1", "1000.00")],
        person(PsnType.EMPLOYEE_RETIRED, age=66),
        visit(OTP, HospLv.LEVEL_3),
        acc,
    )
    assert s.hifp_pay == D("800.00")


def test_deductible_spans_two_visits() -> None:
    acc = {AccKey.dedc_used("otp"): D("1500.00"), AccKey.inscp("otp"): D("1500.00")}
    s = run([a_line("1", "1000.00")], person(), visit(OTP, HospLv.LEVEL_2), acc)
    # 300 of deductible left; (1000 − 300) × 70 % = 490.00
    assert (s.act_pay_dedc, s.hifp_pay) == (D("300.00"), D("490.00"))
    assert s.accumulator_delta[AccKey.dedc_used("otp")] == D("300.00")


# ------------------------------------------------------------------ employees, inpatient


def test_employee_first_admission_bands() -> None:
    s = run([a_line("1", "50000.00")], person(), visit(IPT, HospLv.LEVEL_3))
    # 1300 deductible; [1300,30000)×85 % + [30000,40000)×90 % + [40000,50000)×95 %
    # = 24395 + 9000 + 9500 = 42895.00
    assert (s.act_pay_dedc, s.hifp_pay, s.psn_part_amt) == (
        D("1300.00"),
        D("42895.00"),
        D("7105.00"),
    )
    assert s.accumulator_delta[AccKey.IPT_ADMISSIONS] == 1


def test_employee_second_admission_650() -> None:
    acc = {
        AccKey.IPT_ADMISSIONS: D("1"),
        AccKey.inscp("ipt"): D("50000.00"),
        AccKey.pool_paid("ipt"): D("42895.00"),
    }
    s = run([a_line("1", "10000.00")], person(), visit(IPT, HospLv.LEVEL_3), acc)
    # deductible 650; [50650, 60000) × 95 % = 8882.50
    assert (s.act_pay_dedc, s.hifp_pay) == (D("650.00"), D("8882.50"))


def test_interim_settlement_of_the_same_admission() -> None:
    acc = {AccKey.IPT_ADMISSIONS: D("1"), AccKey.inscp("ipt"): D("5000.00")}
    v = visit(IPT, HospLv.LEVEL_3, same_admission=True)
    s = run([a_line("1", "1000.00")], person(), v, acc)
    # no new deductible, not a new admission: 1000 × 85 % = 850.00
    assert (s.act_pay_dedc, s.hifp_pay) == (D("0.00"), D("850.00"))
    assert AccKey.IPT_ADMISSIONS not in s.accumulator_delta


def test_retired_inpatient_plus_5() -> None:
    s = run(
        [a_line("1", "11300.00")],
        person(PsnType.EMPLOYEE_RETIRED, age=68),
        visit(IPT, HospLv.LEVEL_3),
    )
    # (11300 − 1300) × 90 % = 9000.00
    assert s.hifp_pay == D("9000.00")


def test_employee_over_the_pool_cap_into_large_fund() -> None:
    acc = {
        AccKey.IPT_ADMISSIONS: D("2"),
        AccKey.inscp("ipt"): D("150000.00"),
        AccKey.pool_paid("ipt"): D("95000.00"),
    }
    s = run([a_line("1", "20000.00")], person(), visit(IPT, HospLv.LEVEL_3), acc)
    # deductible 650; [150650, 170000) at 95 % would be 18382.50 but only 5000 of the 100000
    # cap is left: hifp 5000.00 covers 5000/0.95 = 5263.157… of expense; the other
    # 14086.842… goes to 大额互助 at 80 % = 11269.47
    assert s.hifp_pay == D("5000.00")
    assert s.hifob_pay == D("11269.47")
    assert s.psn_part_amt == D("3730.53")
    assert fund(s, FundPayType.EMPLOYEE_POOL) == D("5000.00")
    assert fund(s, FundPayType.EMPLOYEE_LARGE) == D("11269.47")
    pool_row = next(d for d in s.setldetail if d.fund_pay_type is FundPayType.EMPLOYEE_POOL)
    assert pool_row.crt_payb_lmt_amt == D("5000.00")
    assert s.accumulator_delta[AccKey.HIFOB_PAID] == D("11269.47")


def test_large_fund_respects_its_annual_limit() -> None:
    acc = {
        AccKey.IPT_ADMISSIONS: D("3"),
        AccKey.inscp("ipt"): D("400000.00"),
        AccKey.pool_paid("ipt"): D("100000.00"),
        AccKey.HIFOB_PAID: D("399000.00"),
    }
    s = run([a_line("1", "20000.00")], person(), visit(IPT, HospLv.LEVEL_3), acc)
    assert (s.hifp_pay, s.hifob_pay) == (D("0.00"), D("1000.00"))
    assert s.psn_part_amt == D("19000.00")


def test_pool_cap_already_exceeded_pays_nothing() -> None:
    acc = {AccKey.IPT_ADMISSIONS: D("1"), AccKey.pool_paid("ipt"): D("120000.00")}
    s = run([a_line("1", "5000.00")], person(), visit(IPT, HospLv.LEVEL_3), acc)
    assert s.hifp_pay == D("0.00")
    # (5000 − 650) × 80 % = 3480.00 from 大额互助
    assert s.hifob_pay == D("3480.00")


# ------------------------------------------------------------------ residents


def test_resident_outpatient_two_deductible_counters() -> None:
    p = person(PsnType.ADULT_RESIDENT)
    s1 = run([a_line("1", "500.00")], p, visit(OTP, HospLv.LEVEL_1))
    # community: deductible 100, (500 − 100) × 55 % = 220.00
    assert (s1.act_pay_dedc, s1.hifp_pay) == (D("100.00"), D("220.00"))
    assert s1.accumulator_delta[AccKey.dedc_used("otp_basic")] == D("100.00")
    acc = apply({}, s1.accumulator_delta)
    s2 = run([a_line("1", "1000.00")], p, visit(OTP, HospLv.LEVEL_3), acc)
    # hospital: its own deductible 550, (1000 − 550) × 50 % = 225.00
    assert (s2.act_pay_dedc, s2.hifp_pay) == (D("550.00"), D("225.00"))
    assert s1.acct_pay == s2.acct_pay == D("0.00")


def test_resident_outpatient_annual_cap_3000() -> None:
    acc = {AccKey.dedc_used("otp"): D("550.00"), AccKey.pool_paid("otp"): D("2900.00")}
    s = run(
        [a_line("1", "2000.00")], person(PsnType.ADULT_RESIDENT), visit(OTP, HospLv.LEVEL_3), acc
    )
    assert s.hifp_pay == D("100.00")
    assert s.psn_cash_pay == D("1900.00")


def test_resident_inpatient_cap_250000() -> None:
    acc = {AccKey.IPT_ADMISSIONS: D("1"), AccKey.pool_paid("ipt"): D("249000.00")}
    s = run(
        [a_line("1", "10000.00")], person(PsnType.ADULT_RESIDENT), visit(IPT, HospLv.LEVEL_1), acc
    )
    assert s.hifp_pay == D("1000.00")
    assert s.hifob_pay == D("0.00")  # residents have no 大额互助


def test_student_follows_resident_figures_in_demo() -> None:
    child = person(PsnType.SCHOOL_STUDENT, age=9)
    s = run([a_line("1", "500.00")], child, visit(OTP, HospLv.LEVEL_1))
    assert s.hifp_pay == D("220.00")
    s = run([a_line("1", "5300.00")], child, visit(IPT, HospLv.LEVEL_2))
    # 二级 deductible 800, (5300 − 800) × 78 % = 3510.00
    assert s.hifp_pay == D("3510.00")


def test_resident_critical_illness_non_poor() -> None:
    p = person(PsnType.ADULT_RESIDENT)
    s1 = run([a_line("1", "100000.00")], p, visit(IPT, HospLv.LEVEL_3))
    # hifp (100000 − 1300) × 75 % = 74025.00; in-scope self-pay 25975 < 30404: no 大病
    assert (s1.hifp_pay, s1.hifmi_pay) == (D("74025.00"), D("0.00"))
    assert s1.accumulator_delta[AccKey.HIFMI_BASE] == D("25975.00")
    acc = apply({}, s1.accumulator_delta)
    s2 = run([a_line("1", "40000.00")], p, visit(IPT, HospLv.LEVEL_3), acc)
    # second admission: deductible 1300 again; hifp 38700 × 75 % = 29025.00; self-pay 10975
    # → cumulative 36950, above 30404: 6546 × 60 % = 3927.60
    assert (s2.hifp_pay, s2.hifmi_pay) == (D("29025.00"), D("3927.60"))
    assert fund(s2, FundPayType.RESIDENT_CRITICAL) == D("3927.60")
    assert s2.maf_pay == D("0.00")


def test_poor_resident_critical_illness_and_assistance() -> None:
    p = person(PsnType.ADULT_RESIDENT, assistance=(PsnIdetType.SUBSISTENCE,))
    s = run([a_line("1", "100000.00")], p, visit(IPT, HospLv.LEVEL_3))
    # hifp 74025.00; self-pay 25975; 大病 deductible halved 15202: 10773 × 65 % = 7002.45
    # left 18972.55; 救助 70 % = 13280.785 → 13280.79; cash 5691.76
    assert s.hifp_pay == D("74025.00")
    assert s.hifmi_pay == D("7002.45")
    assert s.maf_pay == D("13280.79")
    assert s.psn_cash_pay == D("5691.76")
    assert s.fund_pay_sumamt == D("94308.24")
    kinds = [d.fund_pay_type for d in s.setldetail]
    assert kinds == [
        FundPayType.RESIDENT_POOL,
        FundPayType.RESIDENT_CRITICAL,
        FundPayType.ASSISTANCE,
    ]


def test_poor_resident_critical_has_no_cap_and_upper_band() -> None:
    p = person(PsnType.ADULT_RESIDENT, assistance=(PsnIdetType.EXTREME_POVERTY,))
    acc = {AccKey.IPT_ADMISSIONS: D("1"), AccKey.HIFMI_BASE: D("65202.00"),
           AccKey.pool_paid("ipt"): D("250000.00")}  # fmt: skip
    s = run([a_line("1", "10000.00")], p, visit(IPT, HospLv.LEVEL_3), acc)
    # pool cap reached: hifp 0; self-pay 10000 all above 15202 + 50000: 75 % = 7500.00
    assert (s.hifp_pay, s.hifmi_pay) == (D("0.00"), D("7500.00"))
    # 救助 on the 2500 left: 70 % = 1750.00
    assert s.maf_pay == D("1750.00")


def test_assistance_annual_limit() -> None:
    p = person(PsnType.ADULT_RESIDENT, assistance=(PsnIdetType.SUBSISTENCE,))
    acc = {AccKey.MAF_PAID: D("55000.00"), AccKey.MAF_BASE: D("90000.00")}
    s = run([a_line("1", "100000.00")], p, visit(IPT, HospLv.LEVEL_3), acc)
    assert s.maf_pay == D("5000.00")


def test_assistance_best_tier_applies() -> None:
    p = person(PsnType.ADULT_RESIDENT, assistance=(PsnIdetType.ORPHAN, PsnIdetType.SUBSISTENCE))
    s = run([a_line("1", "600.00")], p, visit(OTP, HospLv.LEVEL_1))
    # hifp (600 − 100) × 55 % = 275; left 325; best tier 70 % = 227.50
    assert (s.hifp_pay, s.maf_pay, s.psn_cash_pay) == (D("275.00"), D("227.50"), D("97.50"))


def test_resident_pharmacy_pays_cash() -> None:
    s = run(
        [a_line("1", "200.00")],
        person(PsnType.ADULT_RESIDENT),
        visit(MedType.PHARMACY, HospLv.NONE),
    )
    assert s.fund_pay_sumamt == D("0.00")
    assert s.psn_cash_pay == D("200.00")
    assert s.setldetail == ()
    assert s.visit_class == "pharmacy"


# ------------------------------------------------------------------ personal account


def test_employee_pharmacy_account_only() -> None:
    p = person(balc="150.00")
    lines = [a_line("1", "120.00"), line("2", "80.00", terms(ChrgitmLv.CLASS_B, "0.10"))]
    s = run(lines, p, visit(MedType.PHARMACY, HospLv.NONE))
    assert s.hifp_pay == D("0.00")
    assert (s.acct_pay, s.psn_cash_pay, s.balc) == (D("150.00"), D("50.00"), D("0.00"))
    assert [d.fund_pay_type for d in s.setldetail] == [FundPayType.EMPLOYEE_ACCOUNT]
    assert s.accumulator_delta == {}


def test_family_sharing_after_own_balance() -> None:
    p = person(balc="100.00", family="1000.00")
    s = run([a_line("1", "3000.00")], p, visit(OTP, HospLv.LEVEL_2))
    # personal burden 2160: own 100, family 1000, cash 1060
    assert (s.acct_pay, s.acct_mulaid_pay, s.psn_cash_pay) == (
        D("1100.00"),
        D("1000.00"),
        D("1060.00"),
    )
    assert (s.balc, s.family_balc) == (D("0.00"), D("0.00"))


def test_family_sharing_covers_everything() -> None:
    p = person(balc="100.00", family="5000.00")
    s = run([a_line("1", "3000.00")], p, visit(OTP, HospLv.LEVEL_2))
    assert (s.acct_pay, s.acct_mulaid_pay, s.psn_cash_pay) == (
        D("2160.00"),
        D("2060.00"),
        D("0.00"),
    )
    assert s.family_balc == D("2940.00")


def test_account_exhausted_all_cash() -> None:
    s = run([a_line("1", "3000.00")], person(balc="0.00"), visit(OTP, HospLv.LEVEL_2))
    assert (s.acct_pay, s.psn_cash_pay) == (D("0.00"), D("2160.00"))


def test_account_not_used_when_flag_off() -> None:
    p = person(balc="500.00", family="500.00")
    s = run([a_line("1", "3000.00")], p, visit(OTP, HospLv.LEVEL_2, acct=False))
    assert (s.acct_pay, s.psn_cash_pay, s.balc, s.family_balc) == (
        D("0.00"), D("2160.00"), D("500.00"), D("500.00"),
    )  # fmt: skip


def test_account_pays_self_paid_items_too_in_demo() -> None:
    p = person(balc="1000.00")
    s = run([line("1", "300.00", terms(ChrgitmLv.CLASS_C))], p, visit(OTP, HospLv.LEVEL_2))
    assert (s.fulamt_ownpay_amt, s.acct_pay, s.balc) == (D("300.00"), D("300.00"), D("700.00"))
    assert s.accumulator_delta == {}  # nothing in scope: no deductible consumed


# ------------------------------------------------------------------ lines in a bill


def test_bill_with_every_kind_of_line() -> None:
    lines = [
        a_line("1", "1000.00"),
        line("2", "500.00", terms(ChrgitmLv.CLASS_B, "0.20")),
        line("3", "300.00", terms(ChrgitmLv.CLASS_C)),
        line("4", "50.00", terms(ChrgitmLv.CLASS_B, "0.05", "10.00"), cnt="4", pric="12.50"),
        line("5", "80.00", unknown=True),
        line("6", "120.00", terms(lmt=True)),  # restricted, not approved
    ]
    s = run(lines, person(balc="0.00"), visit(OTP, HospLv.LEVEL_2))
    # fulamt 300 + 80 + 120 = 500; overlmt 10; pre 100 + 2 = 102; inscp 1000 + 400 + 38 = 1438
    assert s.medfee_sumamt == D("2050.00")
    assert (s.fulamt_ownpay_amt, s.overlmt_selfpay, s.preselfpay_amt, s.inscp_scp_amt) == (
        D("500.00"), D("10.00"), D("102.00"), D("1438.00"),
    )  # fmt: skip
    # in scope 1438 < deductible 1800: all consumed by the deductible
    assert (s.act_pay_dedc, s.hifp_pay) == (D("1438.00"), D("0.00"))
    assert s.psn_cash_pay == D("2050.00")


def test_inpatient_refund_lines_net() -> None:
    t = terms(ChrgitmLv.CLASS_B, "0.10")
    lines = [
        line("1", "1000.00", t, cnt="5", pric="200"),
        line("2", "-400.00", t, cnt="-2", pric="200"),
        a_line("3", "5300.00"),
    ]
    s = run(lines, person(PsnType.ADULT_RESIDENT), visit(IPT, HospLv.LEVEL_2))
    # drug net 600: pre 100 − 40 = 60, in scope 540; bill 5900, in scope 5840
    assert (s.medfee_sumamt, s.preselfpay_amt, s.inscp_scp_amt) == (
        D("5900.00"), D("60.00"), D("5840.00"),
    )  # fmt: skip
    # (5840 − 800) × 78 % = 3931.20
    assert s.hifp_pay == D("3931.20")
    assert s.lines[1].inscp_scp_amt == D("-360.00")


def test_refunds_exceeding_the_bill_are_refused() -> None:
    lines = [a_line("1", "100.00"), line("2", "-300.00", terms(ChrgitmLv.CLASS_C), cnt="-1")]
    with pytest.raises(PolicyRefusal) as info:
        settle(lines, person(), visit(IPT, HospLv.LEVEL_2), {}, demo_book())
    assert info.value.field in {"medfee_sumamt", "fulamt_ownpay_amt"}


def test_empty_bill_is_all_zero() -> None:
    s = run([], person(balc="10.00"), visit(OTP, HospLv.LEVEL_2))
    assert s.medfee_sumamt == D("0.00") and s.accumulator_delta == {} and s.balc == D("10.00")


# ------------------------------------------------------------------ refusals and lookups


def test_unknown_region_is_refused() -> None:
    with pytest.raises(PolicyRefusal) as info:
        settle([a_line("1", "1.00")], person(), visit(admdvs="310101"), {}, demo_book())
    assert info.value.field == "admdvs"
    assert "310101" in str(info.value)


def test_person_without_rule_is_refused() -> None:
    cadre = PersonTerms("P9", Insutype.RETIRED_CADRE, PsnType.RETIRED_CADRE, 90)
    with pytest.raises(PolicyRefusal) as info:
        settle([a_line("1", "1.00")], cadre, visit(), {}, demo_book())
    assert "340" in str(info.value)


def test_missing_level_value_is_refused() -> None:
    with pytest.raises(PolicyRefusal) as info:
        settle(
            [a_line("1", "1.00")],
            person(PsnType.ADULT_RESIDENT),
            visit(IPT, HospLv.NONE),
            {},
            demo_book(),
        )
    assert info.value.field == "hosp_lv"


def test_before_the_first_version_is_refused() -> None:
    with pytest.raises(PolicyRefusal):
        settle(
            [a_line("1", "1.00")],
            person(),
            visit(day=date(2022, 12, 31)),
            {},
            demo_book(),
        )


CIVIL = """
[region]
admdvs = "990199"
begndate = 2024-01-01
[[rule]]
insutype = "310"
psn_group = ["in_service", "retired"]
visit_class = ["outpatient", "inpatient", "pharmacy", "chronic_outpatient"]
[rule.pool]
[[rule.pool.band]]
ratio = 0.5
[rule.acct]
scope = "inscp"
[[cvlserv]]
insutype = "310"
visit_class = "outpatient"
ratio = 0.6
cap = 100
"""


def test_civil_servant_subsidy_and_inscp_only_account() -> None:
    book = book_from_texts(CIVIL)
    p = person(PsnType.CIVIL_SERVANT_IN_SERVICE, balc="1000.00", cvlserv=True)
    lines = [a_line("1", "100.00"), line("2", "50.00", terms(ChrgitmLv.CLASS_C))]
    s = settle(lines, p, visit(admdvs="990101"), {}, book)
    check_identities(s, p)
    # hifp 50; cvlserv 60 % of 50 = 30; account pays the in-scope rest 20 only; cash 50
    assert (s.hifp_pay, s.cvlserv_pay, s.acct_pay, s.psn_cash_pay) == (
        D("50.00"), D("30.00"), D("20.00"), D("50.00"),
    )  # fmt: skip
    assert fund(s, FundPayType.CIVIL_SERVANT) == D("30.00")
    # its annual cap
    s = settle(lines, p, visit(admdvs="990101"), {AccKey.CVLSERV_PAID: D("90.00")}, book)
    assert s.cvlserv_pay == D("10.00")
    # not a civil servant: nothing
    s = settle(lines, person(balc="0.00"), visit(admdvs="990101"), {}, book)
    assert s.cvlserv_pay == D("0.00")
