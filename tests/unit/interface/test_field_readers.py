"""The field readers refuse what a column cannot hold, naming the field and the rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.codes.dicts import HospApprFlag, Insutype
from yibao.errors import InvalidInput
from yibao.interface import fields


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("99999999999999999999999", "data.ver: 超出范围"),
        (2**63, "data.ver: 超出范围"),
        ("-1", "data.ver: 超出范围"),
        ("1.5", "data.ver: 应为整数"),
        (Decimal("1.0"), "data.ver: 应为整数"),
        ("١٢", "data.ver: 应为整数"),  # Arabic-Indic digits: isdigit, but not a JSON integer
        (True, "data.ver: 应为整数"),
        ([1], "data.ver: 应为整数"),
    ],
)
def test_an_integer_out_of_range_or_not_whole_is_refused(value: object, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        fields.opt_int({"ver": value}, "ver", node_name="data")


def test_integers_in_range() -> None:
    assert fields.opt_int({"ver": "0"}, "ver") == 0
    assert fields.opt_int({"ver": 2**63 - 1}, "ver") == 2**63 - 1
    assert fields.opt_int({"ver": " 12 "}, "ver") == 12
    assert fields.opt_int({"ver": ""}, "ver") is None
    assert fields.req_int({"page_num": 3}, "page_num", minimum=1) == 3
    with pytest.raises(InvalidInput, match="page_num: 必填"):
        fields.req_int({}, "page_num", minimum=1)


@pytest.mark.parametrize("value", ["1e999", Decimal("1E400"), "-1e999"])
def test_huge_exponents_are_out_of_range_not_a_crash(value: object) -> None:
    with pytest.raises(InvalidInput, match="超出范围"):
        fields.req_amount({"medfee_sumamt": value}, "medfee_sumamt", node_name="data")
    with pytest.raises(InvalidInput, match="超出范围"):
        fields.req_decimal({"cnt": value}, "cnt", node_name="feedetail[0]", places=4)


# -- strings, decimals and codes: the readers' rules, held against a plain statement of them


def _outcome(read: Any) -> tuple[str, object]:
    try:
        return ("ok", read())
    except InvalidInput as exc:
        return ("refused", str(exc))


def _str_rule(value: object, max_len: int) -> tuple[str, object]:
    """opt_str's rule: text (a str, int or Decimal as its text) stripped; empty means absent;
    longer than max_len, or any other type, refused."""
    if value is None:
        return ("ok", None)
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return ("refused", "data.f: 应为字符串 (must be a string)")
    text = str(value).strip()
    if not text:
        return ("ok", None)
    if len(text) > max_len:
        return ("refused", f"data.f: 长度超过 {max_len} (too long: {len(text)} characters)")
    return ("ok", text)


@given(
    value=st.one_of(
        st.none(),
        st.text(max_size=12),
        st.text(alphabet=" \t\n", max_size=3),
        st.integers(),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.floats(allow_nan=False),
        st.lists(st.integers(), max_size=1),
    ),
    max_len=st.integers(min_value=1, max_value=8),
)
def test_opt_str_follows_its_rule(value: object, max_len: int) -> None:
    got = _outcome(lambda: fields.opt_str({"f": value}, "f", node_name="data", max_len=max_len))
    assert got == _str_rule(value, max_len)


@given(
    number=st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9),
    places=st.integers(min_value=0, max_value=6),
    as_text=st.booleans(),
)
def test_opt_decimal_keeps_the_value_with_exactly_its_places(
    number: Decimal, places: int, as_text: bool
) -> None:
    value = str(number) if as_text else number
    got = _outcome(
        lambda: fields.opt_decimal(
            {"f": value}, "f", node_name="data", places=places, allow_negative=True
        )
    )
    has_more_places = number != round(number, places)
    if has_more_places or abs(number) > Decimal("9999999999"):
        assert got[0] == "refused"
    else:
        assert got[0] == "ok"
        read = got[1]
        assert isinstance(read, Decimal)
        assert read == number and read.as_tuple().exponent == -places


@given(
    number=st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**6), max_value=10**6)
)
def test_an_amount_is_read_with_two_decimals_or_refused(number: Decimal) -> None:
    got = _outcome(
        lambda: fields.opt_amount({"f": number}, "f", node_name="data", allow_negative=True)
    )
    if number != round(number, 2):
        assert got[0] == "refused" and "at most two decimals" in str(got[1])
    else:
        assert got == ("ok", number)
        assert isinstance(got[1], Decimal) and got[1].as_tuple().exponent == -2


@pytest.mark.parametrize("code", list(HospApprFlag) + list(Insutype))
def test_a_code_is_read_by_its_value_as_text_or_number(code: Any) -> None:
    kind = type(code)
    assert kind.of(code.value) is code
    assert kind.of(f"{code.value}") is code
    if code.value.isdigit():
        assert kind.of(int(code.value)) is code


def test_an_unknown_code_is_refused_naming_the_field_and_the_allowed_values() -> None:
    with pytest.raises(ValueError, match=r"data.hosp_appr_flag: 值 '7' 不在码表中 \(allowed: 0 "):
        HospApprFlag.of("7", field="data.hosp_appr_flag")
    with pytest.raises(ValueError, match="不在码表中"):
        HospApprFlag.of(" 0", field="x")  # not stripped here: the field reader strips
