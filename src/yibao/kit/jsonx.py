"""JSON for the interface: numbers read exactly, amounts written as exact JSON numbers.

- `loads` parses every JSON number with a fraction as `Decimal` (never float), so that
  ``56.50`` arrives as ``Decimal("56.50")``.
- `dumps` writes a `Decimal` as a raw JSON number with its own digits (``56.50``), a
  `datetime` as ``yyyy-MM-dd HH:mm:ss`` and a `date` as ``yyyy-MM-dd`` — the interface's formats.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from yibao.kit.clock import DATE_FMT, DATETIME_FMT


def loads(data: bytes | str) -> Any:
    """Parse JSON; fractions become Decimal. Raises ValueError on malformed input."""
    return json.loads(data, parse_float=Decimal)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(format(value, "f").encode())
    if isinstance(value, datetime):
        # isoformat gives the same text as DATETIME_FMT for a naive datetime of a four-digit
        # year, for a fraction of strftime's CPU (every answer of the interface carries
        # datetimes); strftime for the rest (aware, year < 1000)
        if type(value) is datetime and value.tzinfo is None and value.year >= 1000:
            return value.isoformat(" ", "seconds")
        return value.strftime(DATETIME_FMT)
    if isinstance(value, date):
        if type(value) is date and value.year >= 1000:
            return value.isoformat()
        return value.strftime(DATE_FMT)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """Serialise to UTF-8 JSON bytes (Chinese kept as is, not \\u-escaped)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def dumps_str(value: Any) -> str:
    return dumps(value).decode()
