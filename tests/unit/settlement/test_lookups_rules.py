"""Pure rules of the lookups: 1101's 校验位 check, 2001's entitlement verdict, 5206's caps and
funds by accumulator key, 1201's national institution type."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from yibao.codes.dicts import FundPayType, HospLv, Insutype, MedType, PsnType
from yibao.errors import InvalidInput
from yibao.interface.transactions.person import check_id_card_digit
from yibao.policy import load_book
from yibao.settlement.commands_lookups import EntitlementCheck
from yibao.settlement.lookups import (
    caps_of,
    cum_type_name,
    fund_of_key,
    judge_entitlement,
    national_fixmedins_type,
)

BOOK = load_book()
DAY = date(2024, 6, 1)


def test_check_digit_refused_with_the_expected_character() -> None:
    check_id_card_digit("110101199003074514", "data.certno")
    check_id_card_digit("11010119800101001" + "0", "data.certno")
    check_id_card_digit("11010519491231002x", "data.certno")  # lower-case x = X
    with pytest.raises(InvalidInput, match=r"data\.certno: 居民身份证号码校验位错误, 应为 '4'"):
        check_id_card_digit("110101199003074515", "data.certno")
    # not an 18-character number of digits: left to the lookup
    for other in (None, "12345", "E12345678", "ABCDEFGHIJKLMNOPQR"):
        check_id_card_digit(other, "data.certno")


def _insu(**over: Any) -> dict[str, Any]:
    row = {
        "insutype": "310",
        "psn_type": "1101",
        "psn_insu_stas": "1",
        "psn_insu_date": date(2015, 1, 1),
        "paus_insu_date": None,
        "insuplc_admdvs": "110199",
        "balc": Decimal("100.00"),
        "cvlserv_flag": "0",
    }
    row.update(over)
    return row


def _ask(insutype: str = "310", med_type: str = "11") -> EntitlementCheck:
    return EntitlementCheck(psn_no="P1", insutype=Insutype(insutype), med_type=MedType(med_type))


def _judge(insu: dict[str, Any] | None, q: EntitlementCheck, idets: list[Any] | None = None) -> Any:
    return judge_entitlement(
        insu, date(1990, 3, 7), idets or [], q, day=DAY, hosp_lv=HospLv.LEVEL_2, book=BOOK
    )


def test_entitled_employee_has_pool_and_account() -> None:
    verdict = _judge(_insu(), _ask())
    assert verdict.reasons == ()
    assert FundPayType.EMPLOYEE_POOL in verdict.funds
    assert FundPayType.EMPLOYEE_ACCOUNT in verdict.funds
    assert verdict.notes == ()


def test_every_reason_is_given() -> None:
    verdict = _judge(
        _insu(psn_insu_stas="2", psn_insu_date=date(2024, 7, 1), paus_insu_date=date(2024, 5, 1)),
        _ask(),
    )
    text = " | ".join(verdict.reasons)
    assert "暂停参保 (2)" in text and "晚于就诊日期" in text and "2024-05-01" in text
    assert verdict.funds == ()
    assert _judge(None, _ask("390")).reasons[0].startswith("未参加险种 390")


def test_registration_needed_is_a_note_not_a_refusal() -> None:
    verdict = _judge(_insu(), _ask(med_type="14"))
    assert verdict.reasons == () and "2503" in verdict.notes[0]


def test_assistance_fund_only_with_an_identity_valid_that_day() -> None:
    resident = _insu(insutype="390", psn_type="1501", balc=Decimal("0"))
    idet = {"psn_idet_type": "21", "begntime": datetime(2020, 1, 1), "endtime": None}
    ended = {**idet, "endtime": datetime(2024, 1, 1)}
    assert FundPayType.ASSISTANCE in _judge(resident, _ask("390", "21"), [idet]).funds
    assert FundPayType.ASSISTANCE not in _judge(resident, _ask("390", "21"), [ended]).funds


def test_caps_from_the_policy_book() -> None:
    version = BOOK.version_for("110199", DAY)
    emp = caps_of(version, Insutype.EMPLOYEE, PsnType("1101"))
    assert emp["ipt.pool_paid"] == Decimal("100000")
    assert emp["hifob.paid"] == Decimal("400000")
    res = caps_of(version, Insutype.RESIDENT, PsnType("1501"))
    assert res["ipt.pool_paid"] == Decimal("250000")
    assert "hifob.paid" not in res


def test_fund_and_name_of_each_key() -> None:
    assert fund_of_key("otp.pool_paid", Insutype.EMPLOYEE) is FundPayType.EMPLOYEE_POOL
    assert fund_of_key("otp.pool_paid", Insutype.RESIDENT) is FundPayType.RESIDENT_POOL
    assert fund_of_key("hifmi.paid", Insutype.RESIDENT) is FundPayType.RESIDENT_CRITICAL
    assert fund_of_key("otp.dedc_used", Insutype.EMPLOYEE) is None
    assert cum_type_name("ipt.pool_paid") == "ipt 统筹基金累计支付"
    assert cum_type_name("maf.paid") == "医疗救助累计支付"


def test_national_institution_type() -> None:
    assert national_fixmedins_type("pharmacy") == "2"
    assert national_fixmedins_type("hospital") == "1"
    assert national_fixmedins_type("clinic") == "1"
