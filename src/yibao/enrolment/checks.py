"""Input checks shared by the enrolment services. Every refusal is an `InvalidInput` whose
message starts with the field name, then the rule (Chinese first, English in parentheses).
"""

from __future__ import annotations

from typing import Any, TypeVar

from yibao.codes import validators
from yibao.codes.dicts import CodeDict
from yibao.codes.validators import CodeKind
from yibao.errors import InvalidInput

D = TypeVar("D", bound=CodeDict)


def code(kind: CodeKind, value: object, *, field: str) -> str:
    """`value` if it is a valid national code of `kind` (codes.validators)."""
    check = validators.validate(kind, value)
    if not check.valid:
        raise InvalidInput(f"{field}: {check.reason}")
    return check.value


def admdvs(value: object, *, field: str = "admdvs") -> str:
    return code(CodeKind.ADMDVS, value, field=field)


def dict_value(allowed: type[D], value: object, *, field: str) -> D:
    try:
        return allowed.of(value, field=field)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def text(value: Any, *, field: str, max_len: int, required: bool = True) -> str | None:
    """Stripped text within `max_len`; "" and None are absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{field}: 必填 (required)")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: 应为字符串 (must be a string)")
    stripped = value.strip()
    if len(stripped) > max_len:
        raise InvalidInput(
            f"{field}: 长度超过 {max_len} (at most {max_len} characters, got {len(stripped)})"
        )
    return stripped


def req_text(value: Any, *, field: str, max_len: int) -> str:
    result = text(value, field=field, max_len=max_len, required=True)
    assert result is not None
    return result


def flag(value: Any, *, field: str) -> str:
    if str(value) not in ("0", "1"):
        raise InvalidInput(f"{field}: 应为 0 或 1 (must be '0' or '1'), got '{value}'")
    return str(value)
