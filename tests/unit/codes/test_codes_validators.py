"""Validators: valid and invalid examples for every kind, check digits, lenient notes."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.codes.dicts import Gend
from yibao.codes.validators import (
    CodeKind,
    UnknownKind,
    certno_birth_date,
    certno_check_digit,
    certno_gend,
    check_local_code,
    is_valid,
    require,
    validate,
)

VALID: list[tuple[str, str]] = [
    ("certno", "11010519491231002X"),  # the GB 11643 standard's own example
    ("certno", "440304199003074510"),
    ("certno", "320106201602290017"),  # 29 February of a leap year
    ("certno", "911156199003071239"),  # foreign permanent-residence ID (9 + province 11)
    ("certno", "830000199001011234"),  # Taiwan resident's residence permit
    ("fixmedins_code", "H13110200026"),
    ("fixmedins_code", "P37010200001"),
    ("fixmedins_code", "H66000000001"),  # 兵团 admdvs 66
    ("admdvs", "110000"),
    ("admdvs", "130399"),  # city-level pooling code ending in 99
    ("admdvs", "370102"),
    ("admdvs", "660000"),
    ("drug", "XA01ABD075A002010100483"),
    ("drug", "ZA04BAA0001010100125001"[:23]),
    ("tcm_herb", "T000100196"),
    ("service_item", "002501010150200"),
    ("consumable", "C1402031030000303979"),
    ("consumable", "C14020310300003039790000001"),
    ("diagnosis", "I10.x00"),
    ("diagnosis", "J18.900x001"),
    ("diagnosis", "E11"),
    ("diagnosis", "I63.900"),
    ("operation", "36.0700x001"),
    ("operation", "47.0900"),
    ("operation", "47.01"),
    ("operation", "99"),
    ("practitioner", "D37010200001"),
    ("practitioner", "N37010200001"),
    ("practitioner", "Y37010200001"),
    ("chronic_disease", "M03900"),
    ("chronic_disease", "M01600"),
    ("psn_no", "13030011303013321217"),
    ("psn_no", "801874939"),
]

INVALID: list[tuple[str, object, str]] = [
    ("certno", "110105194912310021", "校验码错误"),
    ("certno", "11010519491231002Y", "校验码须为数字或X"),
    ("certno", "11010519491231002", "18位"),
    ("certno", "110105491231002", "15位"),
    ("certno", "1101051949123100AX", "前17位须为数字"),
    ("certno", "990105194912310028", "地址码"),
    ("certno", "320106201502290011", "不是有效日期"),  # 2015 is not a leap year
    ("certno", "320106199013010011", "不是有效日期"),  # month 13
    ("certno", "110105209912310029", "晚于今天"),
    ("certno", "１１０１０５１９４９１２３１００２X", "非ASCII"),
    ("certno", " 11010519491231002X", "空白"),
    ("certno", "", "为空"),
    ("certno", 110105194912310021, "须为文本"),
    ("fixmedins_code", "H1311020002", "11位数字"),
    ("fixmedins_code", "X13110200026", "H"),
    ("fixmedins_code", "h13110200026", "H"),
    ("fixmedins_code", "H99110200026", "医保区划"),
    ("admdvs", "13039", "6位数字"),
    ("admdvs", "990000", "GB/T 2260"),
    ("admdvs", "000000", "GB/T 2260"),
    ("admdvs", "1303a9", "6位数字"),
    ("drug", "XA01ABD075A00201010048", "23位"),
    ("drug", "AA01ABD075A002010100483", "X"),
    ("drug", "Xa01ABD075A002010100483", "大写"),
    ("tcm_herb", "000100196", "T"),
    ("tcm_herb", "T01", "T"),
    ("service_item", "0025-0101", "15位"),
    ("service_item", "00250", "15位"),
    ("consumable", "1402031030000303979", "C"),
    ("consumable", "C123", "C"),
    ("diagnosis", "i10.x00", "ICD-10"),
    ("diagnosis", "I1", "ICD-10"),
    ("diagnosis", "I10.", "ICD-10"),
    ("diagnosis", "I10.900x001+Z99.00001", "ICD-10"),
    ("operation", "4.09", "ICD-9-CM-3"),
    ("operation", "47.09000", "ICD-9-CM-3"),
    ("operation", "A7.09", "ICD-9-CM-3"),
    ("practitioner", "王医生", "字母"),
    ("practitioner", "D 37010200001", "字母"),
    ("practitioner", "D" + "1" * 40, "最长30位"),
    ("chronic_disease", "M0390", "M"),
    ("chronic_disease", "m03900", "M"),
    ("chronic_disease", "I10.x00", "M"),
    ("psn_no", "1303-001", "字母或数字"),
    ("psn_no", "1" * 31, "1–30"),
]


@pytest.mark.parametrize(("kind", "value"), VALID)
def test_valid_examples(kind: str, value: str) -> None:
    result = validate(kind, value)
    assert result.valid, result.reason
    assert result.reason is None
    assert bool(result) is True


@pytest.mark.parametrize(("kind", "value", "fragment"), INVALID)
def test_invalid_examples_say_why(kind: str, value: object, fragment: str) -> None:
    result = validate(kind, value, today=date(2025, 6, 1))
    assert not result.valid
    assert result.reason is not None
    assert fragment in result.reason
    # Chinese first, then English in parentheses.
    chinese, _, english = result.reason.partition(" (")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese)
    assert english.endswith(")") and any(ch.isascii() and ch.isalpha() for ch in english)


def test_every_kind_has_valid_and_invalid_examples() -> None:
    kinds = {k.value for k in CodeKind}
    assert {k for k, _ in VALID} == kinds
    assert {k for k, _, _ in INVALID} == kinds


def test_kind_names_are_exactly_the_documented_ones() -> None:
    assert [k.value for k in CodeKind] == [
        "certno",
        "fixmedins_code",
        "admdvs",
        "drug",
        "tcm_herb",
        "service_item",
        "consumable",
        "diagnosis",
        "operation",
        "practitioner",
        "chronic_disease",
        "psn_no",
    ]


def test_unknown_kind_lists_the_kinds() -> None:
    with pytest.raises(UnknownKind) as info:
        validate("icd", "I10.x00")
    assert "certno" in str(info.value) and "psn_no" in str(info.value)


def test_check_digit_of_the_standard_example() -> None:
    assert certno_check_digit("11010519491231002") == "X"
    assert certno_check_digit("44030419900307451") == "0"
    with pytest.raises(ValueError):
        certno_check_digit("1234")


def test_wrong_check_digit_names_the_expected_one() -> None:
    result = validate("certno", "110105194912310021")
    assert result.reason is not None and "'X'" in result.reason


def test_lower_case_x_is_accepted_with_a_note() -> None:
    result = validate("certno", "11010519491231002x")
    assert result.valid
    assert result.notes and "小写" in result.notes[0]


def test_birth_date_and_sex_from_certno() -> None:
    assert certno_birth_date("11010519491231002X") == date(1949, 12, 31)
    assert certno_gend("11010519491231002X") is Gend.FEMALE  # 17th digit 2
    assert certno_gend("440304199003074510") is Gend.MALE  # 17th digit 1


def test_birth_date_bound_by_today() -> None:
    value = "320106201602290017"
    assert validate("certno", value, today=date(2016, 2, 29)).valid
    assert not validate("certno", value, today=date(2016, 2, 28)).valid


@given(st.text(alphabet="0123456789", min_size=3, max_size=3))
def test_exactly_one_check_character_fits(seq: str) -> None:
    body = "110105" + "19900101" + seq
    good = certno_check_digit(body)
    for c in "0123456789X":
        assert validate("certno", body + c).valid is (c == good)


@given(st.integers(min_value=0, max_value=16), st.sampled_from("0123456789"))
def test_any_single_digit_change_is_caught(position: int, digit: str) -> None:
    valid = "11010519491231002X"
    changed = valid[:position] + digit + valid[position + 1 :]
    assert validate("certno", changed).valid is (changed == valid)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("tcm_herb", "T000100196"),
        ("operation", "47.0900"),
        ("consumable", "C1402031030000303979"),
        ("service_item", "A25010101"),
        ("practitioner", "0012"),
        ("drug", "X" + "A" * 22),
    ],
)
def test_lenient_acceptances_carry_a_note(kind: str, value: str) -> None:
    result = validate(kind, value)
    assert result.valid
    assert result.notes, "a leniently accepted code says so"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("drug", "XA01ABD075A002010100483"),
        ("service_item", "002501010150200"),
        ("certno", "11010519491231002X"),
    ],
)
def test_strict_acceptances_have_no_note(kind: str, value: str) -> None:
    assert validate(kind, value).notes == ()


def test_is_valid_and_require() -> None:
    assert is_valid("admdvs", "370102")
    assert not is_valid("admdvs", "37010")
    assert require("psn_no", "123", field="data.psn_no") == "123"
    with pytest.raises(ValueError, match=r"data\.psn_no"):
        require("psn_no", "1-2", field="data.psn_no")


def test_kind_enum_is_accepted() -> None:
    assert validate(CodeKind.ADMDVS, "370102").kind is CodeKind.ADMDVS


def test_local_codes() -> None:
    assert check_local_code("ZJ-2023.001") is None
    assert check_local_code("") is not None
    assert check_local_code("A" * 51) is not None
    assert check_local_code("制剂1") is not None
    assert check_local_code("A B") is not None


@pytest.mark.parametrize(
    "valid", ["11010519491231002X", "440304199003074510", "320106201602290017"]
)
def test_every_adjacent_transposition_is_caught(valid: str) -> None:
    for i in range(17):
        swapped = valid[:i] + valid[i + 1] + valid[i] + valid[i + 2 :]
        if swapped != valid:
            assert not validate("certno", swapped).valid, swapped
