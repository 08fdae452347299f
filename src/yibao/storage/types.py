"""Exact column types that behave the same on SQLite, MariaDB/MySQL and TiDB.

SQLite has no exact DECIMAL (NUMERIC has REAL affinity), so exact numbers are stored as
scaled integers: an amount as integer fen, a unit price (N16,6) as millionths, a quantity
(N16,4) and a ratio (N5,4) as ten-thousandths. Python sees ``Decimal``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Dialect
from sqlalchemy.types import TypeDecorator


class Scaled(TypeDecorator[Decimal]):
    """A Decimal stored as ``BIGINT`` = value × 10**scale; refuses values that lose digits."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale
        self._factor = Decimal(10) ** scale
        self._quantum = Decimal(1).scaleb(-scale)

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("float given for an exact column; use Decimal")
        scaled = Decimal(value) * self._factor
        integral = scaled.to_integral_value()
        if scaled != integral:
            raise ValueError(f"{value} has more than {self.scale} decimals")
        return int(integral)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / self._factor).quantize(self._quantum)


def Money() -> Scaled:
    """Amount in yuan, two decimals, stored as integer fen."""
    return Scaled(2)


def Price() -> Scaled:
    """Unit price, six decimals (N16,6)."""
    return Scaled(6)


def Qty() -> Scaled:
    """Quantity, four decimals (N16,4)."""
    return Scaled(4)


def Ratio() -> Scaled:
    """Ratio 0–1, four decimals (N5,4)."""
    return Scaled(4)
