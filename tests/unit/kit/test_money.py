from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.kit.money import MoneyError, from_fen, parse_amount, round_fen, to_decimal, to_fen


def test_round_fen_is_half_up_as_the_national_platform_rounds() -> None:
    # Recorded 2204 response: 4.52 × 0.05 = 0.226 → 0.23 (reference/nhsa-interface.md §2204).
    assert round_fen(Decimal("4.52") * Decimal("0.05")) == Decimal("0.23")
    assert round_fen(Decimal("0.125")) == Decimal("0.13")
    assert round_fen(Decimal("-0.125")) == Decimal("-0.13")
    assert round_fen(Decimal("0.124999")) == Decimal("0.12")


def test_float_is_refused_anywhere_near_an_amount() -> None:
    with pytest.raises(MoneyError):
        to_decimal(0.1)
    with pytest.raises(MoneyError):
        parse_amount(True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("56.50", Decimal("56.50")),
        (56, Decimal("56.00")),
        (Decimal("0.1"), Decimal("0.10")),
        (" 7 ", Decimal("7.00")),
    ],
)
def test_parse_amount_accepts_numbers_and_numeric_strings(raw: object, expected: Decimal) -> None:
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["1.234", "-1", "abc", "", "NaN", "Infinity", "100000000000000.00"])
def test_parse_amount_refuses_with_the_field_named(raw: str) -> None:
    with pytest.raises(MoneyError, match="medfee_sumamt"):
        parse_amount(raw, field="medfee_sumamt")


def test_negative_allowed_only_when_asked() -> None:
    assert parse_amount("-3.50", allow_negative=True) == Decimal("-3.50")


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_fen_round_trip(fen: int) -> None:
    assert to_fen(from_fen(fen)) == fen


def test_to_fen_refuses_fractions_of_a_fen() -> None:
    with pytest.raises(MoneyError):
        to_fen(Decimal("0.001"))


@pytest.mark.parametrize("value", ["1e999", Decimal("1E400"), "-1E+21", Decimal("1E+999999999")])
def test_a_number_past_any_field_is_out_of_range(value: object) -> None:
    with pytest.raises(MoneyError, match="medfee_sumamt: 超出范围"):
        parse_amount(value, field="medfee_sumamt")


def test_a_tiny_exponent_is_too_many_decimals() -> None:
    with pytest.raises(MoneyError, match="最多两位小数"):
        parse_amount("1e-400", field="pric")
