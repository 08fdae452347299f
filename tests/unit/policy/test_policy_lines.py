"""split_line: the 2204/2301 per-line split."""

from __future__ import annotations

import dataclasses

import pytest
from policy_factories import D, line, terms

from yibao.codes.dicts import ChrgitmLv, HospApprFlag, MedChrgitmType
from yibao.policy import LineRules, LineSplit, PolicyRefusal, split_line

SELF_PAY = LineRules(unknown_code="self_pay")
REFUSE = LineRules(unknown_code="refuse")


def parts(row: LineSplit) -> tuple[str, str, str, str]:
    return (
        f"{row.fulamt_ownpay_amt}",
        f"{row.overlmt_amt}",
        f"{row.preselfpay_amt}",
        f"{row.inscp_scp_amt}",
    )


def test_class_a_is_wholly_in_scope() -> None:
    row = split_line(line("1", "120.00", terms(ChrgitmLv.CLASS_A, "0.10")), SELF_PAY)
    # A 甲类 item has no 先行自付 even if the catalog row carries a ratio.
    assert parts(row) == ("0.00", "0.00", "0.00", "120.00")
    assert row.selfpay_prop == 0
    assert row.memo is None


def test_class_b_recorded_platform_case() -> None:
    """The recorded 2204 response: 4.52 × 0.05 = 0.226 → 0.23; in scope 4.29."""
    row = split_line(line("1", "4.52", terms(ChrgitmLv.CLASS_B, "0.05", "999999")), SELF_PAY)
    assert parts(row) == ("0.00", "0.00", "0.23", "4.29")
    assert row.selfpay_prop == D("0.05")
    assert row.chrgitm_lv is ChrgitmLv.CLASS_B
    assert row.pric_uplmt_amt == D("999999")


def test_class_c_is_wholly_self_paid() -> None:
    row = split_line(line("1", "88.80", terms(ChrgitmLv.CLASS_C)), SELF_PAY)
    assert parts(row) == ("88.80", "0.00", "0.00", "0.00")
    assert row.selfpay_prop == 1


def test_over_price_cap_then_preselfpay_on_the_rest() -> None:
    t = terms(ChrgitmLv.CLASS_B, "0.05", "10.00")
    row = split_line(line("1", "50.00", t, cnt="4", pric="12.50"), SELF_PAY)
    # overlmt = 50.00 − round(10.00 × 4) = 10.00; pre = round(40.00 × 0.05) = 2.00
    assert parts(row) == ("0.00", "10.00", "2.00", "38.00")
    assert row.memo is not None and "超限价" in row.memo


def test_price_cap_rounds_cap_times_count() -> None:
    t = terms(ChrgitmLv.CLASS_A, "0", "3.333333")
    row = split_line(line("1", "10.50", t, cnt="3", pric="3.50"), SELF_PAY)
    # round(3.333333 × 3 = 9.999999) = 10.00 → overlmt 0.50
    assert parts(row) == ("0.00", "0.50", "0.00", "10.00")


def test_under_price_cap_nothing_over() -> None:
    row = split_line(line("1", "30.00", terms(cap="15.00"), cnt="2"), SELF_PAY)
    assert row.overlmt_amt == 0
    # 0 means "no cap" in catalogs that write 0 for none.
    row = split_line(line("1", "30.00", terms(cap="0"), cnt="2"), SELF_PAY)
    assert row.overlmt_amt == 0


def test_unknown_code_self_pay_rule() -> None:
    row = split_line(line("7", "66.00", unknown=True), SELF_PAY)
    assert parts(row) == ("66.00", "0.00", "0.00", "0.00")
    assert row.chrgitm_lv is ChrgitmLv.CLASS_C
    assert row.med_chrgitm_type is MedChrgitmType.OTHER
    assert row.list_type is None
    assert row.memo is not None and "ZZ999" in row.memo


def test_unknown_code_refuse_rule_names_the_line() -> None:
    with pytest.raises(PolicyRefusal) as info:
        split_line(line("L-42", "66.00", unknown=True), REFUSE)
    assert info.value.feedetl_sn == "L-42"
    assert "L-42" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("lmt", "flag", "in_scope"),
    [
        (True, HospApprFlag.APPROVED, True),
        (True, HospApprFlag.NOT_REQUIRED, False),
        (True, HospApprFlag.REJECTED, False),
        (False, HospApprFlag.NOT_REQUIRED, True),
        (False, HospApprFlag.APPROVED, True),
        (False, HospApprFlag.REJECTED, False),
    ],
)
def test_restricted_use_and_hospital_approval(
    lmt: bool, flag: HospApprFlag, in_scope: bool
) -> None:
    t = terms(ChrgitmLv.CLASS_B, "0.10", lmt=lmt)
    row = split_line(line("1", "200.00", t, appr=flag), SELF_PAY)
    if in_scope:
        assert parts(row) == ("0.00", "0.00", "20.00", "180.00")
        assert row.memo is None
    else:
        assert parts(row) == ("200.00", "0.00", "0.00", "0.00")
        assert row.memo
    assert row.lmt_used_flag is lmt


def test_caller_selfpay_reason_becomes_memo() -> None:
    row = split_line(line("1", "45.00", reason="限女性使用 (restricted to women)"), SELF_PAY)
    assert parts(row) == ("45.00", "0.00", "0.00", "0.00")
    assert row.memo == "限女性使用 (restricted to women)"


def test_refund_line_is_the_negated_split() -> None:
    t = terms(ChrgitmLv.CLASS_B, "0.15", "9.00")
    plus = split_line(line("1", "30.00", t, cnt="3", pric="10.00"), SELF_PAY)
    minus = split_line(line("2", "-10.00", t, cnt="-1", pric="10.00"), SELF_PAY)
    assert parts(plus) == ("0.00", "3.00", "4.05", "22.95")
    assert parts(minus) == ("0.00", "-1.00", "-1.35", "-7.65")
    assert minus.cnt == D("-1")
    assert minus.pric == D("10.00")


def test_refund_of_unknown_code_nets() -> None:
    minus = split_line(line("2", "-66.00", cnt="-1", unknown=True), SELF_PAY)
    assert parts(minus) == ("-66.00", "0.00", "0.00", "0.00")


@pytest.mark.parametrize(("amount", "cnt"), [("-5.00", "1"), ("5.00", "-1")])
def test_sign_mismatch_is_refused(amount: str, cnt: str) -> None:
    with pytest.raises(PolicyRefusal) as info:
        split_line(line("9", amount, cnt=cnt, pric="5"), SELF_PAY)
    assert info.value.field == "cnt"


def test_amount_must_be_whole_fen() -> None:
    with pytest.raises(PolicyRefusal) as info:
        split_line(line("9", "1.005"), SELF_PAY)
    assert info.value.field == "det_item_fee_sumamt"


def test_selfpay_prop_out_of_range_is_refused() -> None:
    with pytest.raises(PolicyRefusal):
        split_line(line("9", "1.00", terms(ChrgitmLv.CLASS_B, "1.5")), SELF_PAY)


def test_catalog_flags_are_carried() -> None:
    t = dataclasses.replace(terms(), hi_nego_drug_flag=True, chld_medc_flag=True)
    row = split_line(line("1", "1.00", t), SELF_PAY)
    assert row.hi_nego_drug_flag and row.chld_medc_flag
    assert not row.bas_medn_flag and not row.drt_reim_flag and not row.list_sp_item_flag
    assert row.hilist_code == t.hilist_code
