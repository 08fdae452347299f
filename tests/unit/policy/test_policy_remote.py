"""异地就医 worked examples: the same inpatient bill of the same kind of person, settled under the
demo region's parameters (110199, local) and under the neighbouring region's (131099, a person
insured there treated in the demo city). Expected figures are written by hand from the two
parameter files (src/yibao/policy/params/110199_2023.toml and 131099_2023.toml)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from policy_factories import D, a_line, check_identities, demo_book, line, person, terms

from yibao.codes.dicts import ChrgitmLv, FundPayType, HospLv, MedType, PsnType
from yibao.policy import (
    FeeLineIn,
    PolicyFileError,
    PolicyRefusal,
    VisitTerms,
    parse_version,
    settle,
)
from yibao.policy.book import RegionVersion
from yibao.policy.remote import remote_verdict

DAY = date(2024, 3, 1)
EMPLOYEE = person(PsnType.EMPLOYEE_IN_SERVICE, balc="1000.00")
RESIDENT = person(PsnType.ADULT_RESIDENT)


def _bill() -> list[FeeLineIn]:
    # 甲类 8000.00 + 乙类 2000.00 with 10 % 先行自付: in scope 9800.00, preselfpay 200.00
    return [a_line("1", "8000.00"), line("2", "2000.00", terms(ChrgitmLv.CLASS_B, "0.10"))]


def _ipt(admdvs: str, cut: str = "0") -> VisitTerms:
    return VisitTerms(
        med_type=MedType.GENERAL_INPATIENT,
        hosp_lv=HospLv.LEVEL_3,
        admdvs=admdvs,
        setl_date=DAY,
        ratio_cut=D(cut),
    )


def test_local_employee_inpatient_under_110199() -> None:
    s = settle(_bill(), EMPLOYEE, _ipt("110199"), {}, demo_book())
    check_identities(s, EMPLOYEE)
    # deductible 1300 (first admission); (9800 − 1300) × 85 % (三级, first band) = 7225.00
    assert s.act_pay_dedc == D("1300.00")
    assert s.hifp_pay == D("7225.00")
    assert s.pool_prop_selfpay == D("0.85")
    assert s.psn_part_amt == D("2775.00")  # 10000 − 7225
    assert s.acct_pay == D("1000.00")  # scope "all": the whole balance
    assert s.psn_cash_pay == D("1775.00")
    assert s.policy_version == "110199@2023-01-01#emp-in-service-ipt"


def test_remote_employee_inpatient_under_131099() -> None:
    s = settle(_bill(), EMPLOYEE, _ipt("131099"), {}, demo_book())
    check_identities(s, EMPLOYEE)
    # deductible 900 (三级, first admission); (9800 − 900) × 80 % = 7120.00
    assert s.act_pay_dedc == D("900.00")
    assert s.hifp_pay == D("7120.00")
    assert s.pool_prop_selfpay == D("0.80")
    assert s.psn_part_amt == D("2880.00")
    # scope "inscp_pre": in-scope self-pay 2680 + preselfpay 200 = 2880 ≥ balance 1000
    assert s.acct_pay == D("1000.00")
    assert s.psn_cash_pay == D("1880.00")
    assert [(d.fund_pay_type, d.fund_payamt) for d in s.setldetail] == [
        (FundPayType.EMPLOYEE_POOL, D("7120.00")),
        (FundPayType.EMPLOYEE_ACCOUNT, D("1000.00")),
    ]
    assert s.policy_version == "131099@2023-01-01#emp-in-service-ipt"


def test_remote_unregistered_is_settled_ten_points_lower() -> None:
    s = settle(_bill(), EMPLOYEE, _ipt("131099", "0.10"), {}, demo_book())
    check_identities(s, EMPLOYEE)
    # (9800 − 900) × (80 % − 10 %) = 6230.00
    assert s.hifp_pay == D("6230.00")
    assert s.pool_prop_selfpay == D("0.70")
    assert s.psn_part_amt == D("3770.00")
    assert "异地未备案" in (s.setldetail[0].setl_proc_info or "")


def test_resident_inpatient_local_and_remote() -> None:
    book = demo_book()
    local = settle(_bill(), RESIDENT, _ipt("110199"), {}, book)
    remote = settle(_bill(), RESIDENT, _ipt("131099"), {}, book)
    # 110199: deductible 1300 (三级), (9800 − 1300) × 75 % = 6375.00
    assert (local.act_pay_dedc, local.hifp_pay, local.psn_cash_pay) == (
        D("1300.00"),
        D("6375.00"),
        D("3625.00"),
    )
    # 131099: deductible 1000 (三级), (9800 − 1000) × 60 % = 5280.00
    assert (remote.act_pay_dedc, remote.hifp_pay, remote.psn_cash_pay) == (
        D("1000.00"),
        D("5280.00"),
        D("4720.00"),
    )
    assert remote.setldetail[0].fund_pay_type is FundPayType.RESIDENT_POOL


def _regions() -> tuple[RegionVersion, RegionVersion]:
    book = demo_book()
    return book.version_for("110199", DAY), book.version_for("131099", DAY)


def test_treatment_region_is_the_one_covering_the_district() -> None:
    book = demo_book()
    home = book.treatment_region("110105", DAY)
    near = book.treatment_region("131002", DAY)
    assert home is not None and home.admdvs == "110199"
    assert near is not None and near.admdvs == "131099"
    assert book.treatment_region("440105", DAY) is None


def test_verdict_local_remote_registered_emergency_and_unregistered() -> None:
    bj, lf = _regions()
    local = remote_verdict(
        insured=lf, treatment=lf, med_type=MedType.GENERAL_INPATIENT, registered=False
    )
    assert not local.remote and local.ratio_cut == 0
    ok = remote_verdict(
        insured=lf, treatment=bj, med_type=MedType.GENERAL_INPATIENT, registered=True
    )
    assert ok.remote and ok.ratio_cut == 0 and ok.treatment_admdvs == "110199"
    for emergency in (MedType.EMERGENCY, MedType.EMERGENCY_TO_INPATIENT):
        er = remote_verdict(insured=bj, treatment=lf, med_type=emergency, registered=False)
        assert er.remote and er.ratio_cut == 0
    # 131099 settles the unregistered at its 未备案 ratio; 110199 (no [remote] table) refuses
    reduced = remote_verdict(
        insured=lf, treatment=bj, med_type=MedType.GENERAL_OUTPATIENT, registered=False
    )
    assert reduced.ratio_cut == Decimal("0.10")
    with pytest.raises(PolicyRefusal, match="异地就医未备案") as exc:
        remote_verdict(
            insured=bj, treatment=lf, med_type=MedType.GENERAL_INPATIENT, registered=False
        )
    assert exc.value.field == "med_type"


_HEAD = """
[region]
admdvs = "130199"
begndate = 2024-01-01
[[rule]]
id = "r"
insutype = "310"
psn_group = "in_service"
visit_class = "outpatient"
[rule.dedc]
mode = "none"
[rule.acct]
scope = "none"
"""


@pytest.mark.parametrize(
    ("remote", "message"),
    [
        ('unregistered = "reduce"', "unregistered_ratio_cut"),
        ('unregistered = "refuse"\nunregistered_ratio_cut = 0.1', "unregistered_ratio_cut"),
        ('unregistered = "maybe"', "unregistered"),
        ('unregistered = "reduce"\nunregistered_ratio_cut = 1.5', "unregistered_ratio_cut"),
    ],
)
def test_remote_table_is_checked(remote: str, message: str) -> None:
    with pytest.raises(PolicyFileError, match=message):
        parse_version(_HEAD + "[remote]\n" + remote + "\n")


def test_remote_table_defaults_to_refuse() -> None:
    assert parse_version(_HEAD).remote.unregistered == "refuse"
