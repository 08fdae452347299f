"""Exact money.

Amounts are ``Decimal`` yuan in code and integer fen (分) at rest. No float ever touches an
amount: a float given to :func:`to_decimal` is refused, because ``Decimal(0.1)`` carries the
binary error of the float into the ledger.

Rounding: one function, :func:`round_fen`, rounds to 0.01 yuan with ROUND_HALF_UP, the
rounding the national platform's recorded responses show (4.52 × 0.05 = 0.226 → 0.23,
``reference/nhsa-interface.md`` §2204).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
#: Largest amount the interface carries (N16,2): 14 integer digits.
MAX_AMOUNT = Decimal("99999999999999.99")
#: the largest decimal exponent (`Decimal.adjusted`) a number read may have: beyond it no
#: interface field holds it, and rounding it to a field's decimals would overflow the context
MAX_ADJUSTED = 20


class MoneyError(ValueError):
    """An amount that cannot be read exactly (a float, text that is not a number, NaN)."""


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Read an exact decimal from a JSON-ish value: int, str, or Decimal.

    JSON numbers must be parsed with ``parse_float=Decimal`` so they arrive here exact.
    """
    if type(value) is Decimal:  # what the interface's JSON parser gives a fraction
        result = value
    elif isinstance(value, bool):
        raise MoneyError(f"{field}: 布尔值不是金额 (a boolean is not a number)")
    elif isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise MoneyError(f"{field}: 不能为空 (empty)")
        try:
            result = Decimal(text)
        except InvalidOperation as exc:
            raise MoneyError(f"{field}: 不是数字 '{value}' (not a number)") from exc
    elif isinstance(value, float):
        raise MoneyError(f"{field}: 内部错误, 浮点数不能表示金额 (float given; parse JSON exactly)")
    else:
        raise MoneyError(f"{field}: 不是数字 (not a number: {type(value).__name__})")
    if not result.is_finite():
        raise MoneyError(f"{field}: 不是有限数字 (not finite)")
    if result.adjusted() > MAX_ADJUSTED:
        raise MoneyError(f"{field}: 超出范围 (out of range): {str(value)[:40]}")
    return result


def round_fen(value: Decimal) -> Decimal:
    """Round to 0.01 yuan, ROUND_HALF_UP (the one rounding function for amounts)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def parse_amount(value: object, *, field: str = "amount", allow_negative: bool = False) -> Decimal:
    """An amount in yuan with at most two decimals, inside N16,2."""
    amount = to_decimal(value, field=field)
    # equal to itself rounded to the fen: the rounded value is the amount with two decimals
    exact = amount.quantize(FEN, rounding=ROUND_HALF_UP)
    if amount != exact:
        raise MoneyError(f"{field}: 金额最多两位小数 (at most two decimals): {value}")
    if amount < 0 and not allow_negative:
        raise MoneyError(f"{field}: 金额不能为负 (must not be negative): {value}")
    if abs(amount) > MAX_AMOUNT:
        raise MoneyError(f"{field}: 金额超出范围 (exceeds N16,2): {value}")
    return exact


def to_fen(amount: Decimal) -> int:
    """Yuan → integer fen; refuses anything that is not a whole number of fen."""
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise MoneyError(f"金额不是整分 (not a whole number of fen): {amount}")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    """Integer fen → yuan with exactly two decimals."""
    return (Decimal(fen) / 100).quantize(FEN)


def fmt(amount: Decimal) -> str:
    """Two-decimal text, as amounts appear in fixtures and files ("12.50")."""
    return f"{amount.quantize(FEN):f}"
