"""JSON for the interface: numbers read exactly, amounts written as exact JSON numbers.

- `loads` parses every JSON number with a fraction as `Decimal` (never float), so that
  ``56.50`` arrives as ``Decimal("56.50")``; it refuses what a client may send but no reader
  downstream can hold (`JsonError`, a message naming the field and the rule): nesting deeper
  than `MAX_DEPTH`, a key twice in one object (another parser would keep the other value: no
  parser differential), `NaN`/`Infinity`, text that is not valid Unicode (invalid UTF-8, a
  lone surrogate as raw bytes or as a ``\\ud800`` escape), an integer outside 64 bits.
- `dumps` writes a `Decimal` as a raw JSON number with its own digits (``56.50``), a
  `datetime` as ``yyyy-MM-dd HH:mm:ss`` and a `date` as ``yyyy-MM-dd`` — the interface's formats.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from yibao.kit.clock import DATE_FMT, DATETIME_FMT

#: the deepest nesting of arrays and objects read; a national envelope nests four or five deep
MAX_DEPTH = 64
#: integers are 64-bit signed wherever they are kept (BIGINT on every backend)
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

#: a \\u escape of a surrogate (a pair is valid; a lone one is not Unicode)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_TOO_DEEP = f"嵌套过深 (nested too deep: at most {MAX_DEPTH} levels)"


class JsonError(ValueError):
    """JSON that is refused; the message names the field (when known) and the rule."""


class _Refused(Exception):
    """The fast parse met something refused (a key twice, an integer past 64 bits, NaN):
    a second parse marks it and a walk names where it is."""


@dataclass(frozen=True, slots=True)
class _Mark:
    """Where the naming parse found something refused: `rule` says what."""

    rule: str


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Refused
    return obj


def _int(text: str) -> int:
    value = int(text)
    # 19 digits and a sign are the most a 64-bit integer has; shorter ones need no compare
    if len(text) > 18 and not INT_MIN <= value <= INT_MAX:
        raise _Refused
    return value


def _constant(name: str) -> Any:
    raise _Refused


def _marked_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                obj[key] = _Mark(f"重复的键 (duplicate key '{_printable(key)}': one value per key)")
            seen.add(key)
    return obj


def _marked_constant(name: str) -> _Mark:
    return _Mark(f"{name} 不是合法的JSON数值 (NaN and Infinity are not JSON numbers)")


#: the decoders, built once (`json.loads` with options builds one per call). A decoder is
#: stateless between calls (its key memo is a cache, cleared after each document), so threads
#: share it. The fast one raises `_Refused`; the naming one marks what it met (`_Mark`) and
#: reads integers whole, for `_check_values` to name.
_DECODER = json.JSONDecoder(
    parse_float=Decimal, parse_int=_int, parse_constant=_constant, object_pairs_hook=_object
)
_NAMING = json.JSONDecoder(
    parse_float=Decimal, parse_constant=_marked_constant, object_pairs_hook=_marked_object
)


def _openers(probe: bytes | str) -> int:
    """How many arrays and objects the document may open (brackets inside strings too): a
    bound on its depth, counted at C speed (bytes when the body came as UTF-8)."""
    if isinstance(probe, bytes):
        return probe.count(b"[") + probe.count(b"{")
    return probe.count("[") + probe.count("{")


def _too_deep(value: Any) -> bool:
    """Whether a parsed document nests deeper than `MAX_DEPTH`, level by level. Only its
    arrays and objects are visited, so the walk costs less than the parse that built them; a
    document the parser could not even build (past the interpreter's recursion limit) is
    refused there."""
    level: list[Any] = [value]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if type(child) is dict or type(child) is list
        ]
        if not level:
            return False
    return True


def _where(path: list[str | int]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out or "(body)"


def _check_values(value: Any, *, strings: bool, marked: bool) -> None:
    """Refuse a string that is not valid Unicode, an integer outside 64 bits or a `_Mark` of
    the naming parse, naming where it is."""
    stack: list[tuple[list[str | int], Any]] = [([], value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if strings and not _is_unicode(key):
                    where = f"{_where(path)}.{_printable(key)}"
                    raise JsonError(f"{where}: 键不是合法的Unicode (key is not valid Unicode)")
                stack.append(([*path, key], child))
        elif isinstance(item, list):
            stack.extend(([*path, i], child) for i, child in enumerate(item))
        elif isinstance(item, str):
            if strings and not _is_unicode(item):
                raise JsonError(
                    f"{_where(path)}: 不是合法的Unicode字符串 (not valid Unicode: a lone surrogate)"
                )
        elif marked and type(item) is int and not INT_MIN <= item <= INT_MAX:
            raise JsonError(f"{_where(path)}: 超出范围 (out of range: integers are 64-bit)")
        elif marked and type(item) is _Mark:
            raise JsonError(f"{_where(path)}: {item.rule}")


def _printable(text: str, limit: int = 60) -> str:
    """`text` fit for a message: a lone surrogate written as its escape, at most `limit` long."""
    return text[:limit].encode("utf-8", "backslashreplace").decode()


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _surrogate_escape(probe: bytes | str) -> bool:
    """Whether the document may hold a \\u escape of a surrogate (one search for "\\u")."""
    if isinstance(probe, bytes):
        return b"\\u" in probe
    return "\\u" in probe


def _parse(decoder: json.JSONDecoder, text: str) -> Any:
    try:
        return decoder.decode(text)
    except RecursionError:  # deeper than the parser goes (about a thousand levels)
        raise JsonError(_TOO_DEEP) from None
    except json.JSONDecodeError as exc:
        raise JsonError(f"{exc.msg} (line {exc.lineno} column {exc.colno})") from None
    except (JsonError, _Refused):
        raise
    except ValueError as exc:  # an integer of more digits than Python converts
        raise JsonError(f"数值无法表示 (a number is not representable: {exc})"[:300]) from None


def loads(data: bytes | str) -> Any:
    """Parse JSON; fractions become Decimal. Raises `JsonError` (a ValueError) on malformed or
    refused input."""
    probe: bytes | str
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data)
        encoding = json.detect_encoding(data)
        try:
            # the encodings the standard library detects (UTF-8 with or without a BOM, UTF-16,
            # UTF-32), decoded strictly: invalid bytes and encoded surrogates are refused
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            name = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
            raise JsonError(
                f"报文不是合法的{name} (not valid {name} at byte {exc.start}: {exc.reason})"
            ) from None
        if text.startswith("\ufeff"):
            text = text[1:]
        probe = data if encoding.startswith("utf-8") else text
        raw_surrogates = False
    else:
        text = probe = data
        raw_surrogates = not _is_unicode(text)
    marked = False
    try:
        value = _parse(_DECODER, text)
    except _Refused:
        marked = True  # parsed once more, to name the field below
        value = _parse(_NAMING, text)
    if _openers(probe) > MAX_DEPTH and isinstance(value, (dict, list)) and _too_deep(value):
        raise JsonError(_TOO_DEEP)
    strings = raw_surrogates or (
        _surrogate_escape(probe) and _SURROGATE_ESCAPE.search(text) is not None
    )
    if strings or marked:
        _check_values(value, strings=strings, marked=marked)
    return value


def _default(value: Any) -> Any:
    if type(value) is Decimal:
        # str is a quarter of format's CPU and gives the same digits unless it would write an
        # exponent (the interface's amounts never need one): then the plain form
        text = str(value)
        if "E" not in text:
            return orjson.Fragment(text.encode())
        return orjson.Fragment(format(value, "f").encode())
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
