"""Readers for the fields of an `input` node, lenient as real clients need and strict where
money is concerned. Every refusal names the node, the field and the rule (Chinese first).

    data = node(input, "data")
    psn_no = req_str(data, "psn_no", node_name="data", max_len=30)
    amount = req_amount(data, "medfee_sumamt", node_name="data")
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from yibao.errors import InvalidInput
from yibao.kit.clock import parse_date, parse_datetime
from yibao.kit.money import MoneyError, parse_amount, to_decimal

_MISSING = object()
#: 1, 0.1 … 0.000001: the quanta of the decimals a field may have (`opt_decimal`)
_QUANTA = tuple(Decimal(1).scaleb(-places) for places in range(7))


def _where(node_name: str | None, field: str) -> str:
    return f"{node_name}.{field}" if node_name else field


def node(input_: Mapping[str, Any], name: str, *, required: bool = True) -> dict[str, Any]:
    """A named object node of `input` (a single-element list is accepted too)."""
    value = input_.get(name, _MISSING) if isinstance(input_, Mapping) else _MISSING
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], Mapping):
        value = value[0]
    if value is _MISSING or value is None:
        if required:
            raise InvalidInput(f"input.{name}: 缺少节点 (missing node '{name}')")
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"input.{name}: 应为对象 (must be an object)")
    return dict(value)


def node_list(
    input_: Mapping[str, Any], name: str, *, required: bool = True, max_items: int = 5000
) -> list[dict[str, Any]]:
    """A named array node of `input` (a single object is accepted as a one-element list)."""
    value = input_.get(name, _MISSING) if isinstance(input_, Mapping) else _MISSING
    if value is _MISSING or value is None:
        if required:
            raise InvalidInput(f"input.{name}: 缺少节点 (missing node '{name}')")
        return []
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise InvalidInput(f"input.{name}: 应为数组 (must be an array)")
    if required and not value:
        raise InvalidInput(f"input.{name}: 不能为空数组 (must not be empty)")
    if len(value) > max_items:
        raise InvalidInput(f"input.{name}: 条目过多 {len(value)} (at most {max_items})")
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise InvalidInput(f"input.{name}[{i}]: 应为对象 (must be an object)")
    return [dict(v) for v in value]


def opt_str(
    data: Mapping[str, Any], field: str, *, node_name: str | None = None, max_len: int = 200
) -> str | None:
    """An optional string; numbers are accepted as their text; "" and null mean absent."""
    value = data.get(field)
    if type(value) is not str:  # a str, the usual case, needs none of these checks
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise InvalidInput(f"{_where(node_name, field)}: 应为字符串 (must be a string)")
        value = str(value)
    text = value.strip()
    if not text:
        return None
    if len(text) > max_len:
        raise InvalidInput(
            f"{_where(node_name, field)}: 长度超过 {max_len} (too long: {len(text)} characters)"
        )
    return text


def req_str(
    data: Mapping[str, Any], field: str, *, node_name: str | None = None, max_len: int = 200
) -> str:
    value = opt_str(data, field, node_name=node_name, max_len=max_len)
    if value is None:
        raise InvalidInput(f"{_where(node_name, field)}: 必填 (required)")
    return value


def opt_amount(
    data: Mapping[str, Any],
    field: str,
    *,
    node_name: str | None = None,
    allow_negative: bool = False,
) -> Decimal | None:
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_amount(value, field=_where(node_name, field), allow_negative=allow_negative)
    except MoneyError as exc:
        raise InvalidInput(str(exc)) from None


def req_amount(
    data: Mapping[str, Any],
    field: str,
    *,
    node_name: str | None = None,
    allow_negative: bool = False,
) -> Decimal:
    value = opt_amount(data, field, node_name=node_name, allow_negative=allow_negative)
    if value is None:
        raise InvalidInput(f"{_where(node_name, field)}: 必填 (required)")
    return value


def req_decimal(
    data: Mapping[str, Any],
    field: str,
    *,
    node_name: str | None = None,
    places: int,
    allow_negative: bool = False,
    max_abs: Decimal = Decimal("9999999999"),
) -> Decimal:
    """A number with at most `places` decimals (quantities N16,4, prices N16,6)."""
    value = opt_decimal(
        data,
        field,
        node_name=node_name,
        places=places,
        allow_negative=allow_negative,
        max_abs=max_abs,
    )
    if value is None:
        raise InvalidInput(f"{_where(node_name, field)}: 必填 (required)")
    return value


def opt_decimal(
    data: Mapping[str, Any],
    field: str,
    *,
    node_name: str | None = None,
    places: int,
    allow_negative: bool = False,
    max_abs: Decimal = Decimal("9999999999"),
) -> Decimal | None:
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    where = _where(node_name, field)
    try:
        number = to_decimal(value, field=where)
    except MoneyError as exc:
        raise InvalidInput(str(exc)) from None
    quantum = _QUANTA[places] if 0 <= places < len(_QUANTA) else Decimal(1).scaleb(-places)
    # equal to itself rounded: the rounded value is the number with exactly `places` decimals
    exact = number.quantize(quantum, rounding=ROUND_HALF_UP)
    if number != exact:
        raise InvalidInput(f"{where}: 最多 {places} 位小数 (at most {places} decimals): {value}")
    if number < 0 and not allow_negative:
        raise InvalidInput(f"{where}: 不能为负 (must not be negative): {value}")
    if abs(number) > max_abs:
        raise InvalidInput(f"{where}: 超出范围 (out of range): {value}")
    return exact


#: integers are 64-bit signed wherever they are kept (BIGINT on every backend)
INT_MAX = 2**63 - 1


def opt_int(
    data: Mapping[str, Any],
    field: str,
    *,
    node_name: str | None = None,
    minimum: int = 0,
    maximum: int = INT_MAX,
) -> int | None:
    """An optional whole number (a JSON integer or its digits as text) in
    `minimum`..`maximum`; "" and null mean absent. A catalog version (`ver`) or a paging
    field (`page_num`, `page_size`) is read with it: a number past 64 bits is refused here,
    not at the database."""
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    where = _where(node_name, field)
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise InvalidInput(f"{where}: 应为整数 (must be a whole number)")
    text = str(value).strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidInput(f"{where}: 应为整数 (must be a whole number): {text[:40]}")
    if len(digits) > 19:
        raise InvalidInput(f"{where}: 超出范围 (out of range {minimum}..{maximum}): {text[:40]}")
    number = int(text)
    if not minimum <= number <= maximum:
        raise InvalidInput(f"{where}: 超出范围 (out of range {minimum}..{maximum}): {text}")
    return number


def req_int(
    data: Mapping[str, Any],
    field: str,
    *,
    node_name: str | None = None,
    minimum: int = 0,
    maximum: int = INT_MAX,
) -> int:
    value = opt_int(data, field, node_name=node_name, minimum=minimum, maximum=maximum)
    if value is None:
        raise InvalidInput(f"{_where(node_name, field)}: 必填 (required)")
    return value


def req_datetime(data: Mapping[str, Any], field: str, *, node_name: str | None = None) -> datetime:
    value = opt_datetime(data, field, node_name=node_name)
    if value is None:
        raise InvalidInput(f"{_where(node_name, field)}: 必填 (required, yyyy-MM-dd HH:mm:ss)")
    return value


def opt_datetime(
    data: Mapping[str, Any], field: str, *, node_name: str | None = None
) -> datetime | None:
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(
            f"{_where(node_name, field)}: 应为时间字符串 yyyy-MM-dd HH:mm:ss (must be a datetime string)"
        )
    try:
        return parse_datetime(value)
    except ValueError:
        raise InvalidInput(
            f"{_where(node_name, field)}: 时间格式错误 '{value}' (expected yyyy-MM-dd HH:mm:ss)"
        ) from None


def opt_date(data: Mapping[str, Any], field: str, *, node_name: str | None = None) -> date | None:
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(
            f"{_where(node_name, field)}: 应为日期字符串 yyyy-MM-dd (must be a date string)"
        )
    try:
        return parse_date(value)
    except ValueError:
        raise InvalidInput(
            f"{_where(node_name, field)}: 日期格式错误 '{value}' (expected yyyy-MM-dd)"
        ) from None


def req_date(data: Mapping[str, Any], field: str, *, node_name: str | None = None) -> date:
    value = opt_date(data, field, node_name=node_name)
    if value is None:
        raise InvalidInput(f"{_where(node_name, field)}: 必填 (required, yyyy-MM-dd)")
    return value


def req_code(
    data: Mapping[str, Any], field: str, allowed: type[Any], *, node_name: str | None = None
) -> Any:
    """A dictionary value (a `codes.dicts.CodeDict` member)."""
    text = req_str(data, field, node_name=node_name, max_len=10)
    try:
        return allowed.of(text, field=_where(node_name, field))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def opt_code(
    data: Mapping[str, Any], field: str, allowed: type[Any], *, node_name: str | None = None
) -> Any:
    text = opt_str(data, field, node_name=node_name, max_len=10)
    if text is None:
        return None
    try:
        return allowed.of(text, field=_where(node_name, field))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
