"""Masking of personal data for display and logs (reference/domain.md §5).

- name → keep the surname: 段正淳 → 段**
- certno → keep the first 1 and last 2: 5***************1X
- phone → keep the first 3 and last 4: 180****1999
- address → keep to the district (区/县) level: 北京市朝阳区****
- birth date → the year only: 1949-12-31 → 1949 (the certno's other digits are masked too)
- card numbers and tokens → keep the last 4

Pure functions over strings; None stays None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

#: a province-level prefix: a province, an autonomous region or a municipality
_PROVINCE = re.compile(r"^(?:.{1,7}?(?:省|自治区|特别行政区)|(?:北京|上海|天津|重庆)市)")
#: after it, the district (区/县/旗, autonomous ones included), or failing that the city
_DISTRICT = re.compile(r"^.{0,15}?(?:区|县|旗)")
_CITY = re.compile(r"^.{0,15}?市")
_PREFECTURE = re.compile(r"^.{0,15}?(?:州|盟)")


def mask_name(value: str | None) -> str | None:
    if not value:
        return value
    return value[0] + "*" * max(1, len(value) - 1)


def mask_certno(value: str | None) -> str | None:
    if not value:
        return value
    if len(value) <= 3:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 3) + value[-2:]


def mask_phone(value: str | None) -> str | None:
    if not value:
        return value
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_birth_date(value: date | str | None) -> str | None:
    """The year only: a birth date with the day narrows a person down to a few hundred in a
    city of ten million; the year keeps age bands for the reader."""
    if value is None or value == "":
        return None
    text = value.isoformat() if isinstance(value, date) else str(value)
    year = text[:4]
    return year if year.isdigit() else "****"


def mask_address(value: str | None) -> str | None:
    """Keep the address up to its district (区/县/旗, else the city), mask the rest."""
    if not value:
        return value
    province = _PROVINCE.match(value)
    start = province.end() if province else 0
    rest = value[start:]
    found = _DISTRICT.match(rest) or _CITY.match(rest) or _PREFECTURE.match(rest)
    kept = value[:start] + (found.group(0) if found else "")
    return kept + "****" if len(kept) < len(value) else kept


def mask_tail(value: str | None, keep: int = 4) -> str | None:
    """Everything but the last `keep` characters (card numbers, e-voucher tokens)."""
    if not value:
        return value
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


#: field → masking function, for the personal fields of `psn`
PERSON_MASKS = {
    "psn_name": mask_name,
    "certno": mask_certno,
    "tel": mask_phone,
    "addr": mask_address,
    "card_no": mask_tail,
    "card_sn": mask_tail,
    "ec_token": mask_tail,
}


#: birth-date fields (`brdy` in psn and the national messages): the year only
BIRTH_DATE_FIELDS = ("brdy",)


def mask_person(row: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `row` with every personal field masked (the birth date to its year)."""
    out = dict(row)
    for field, fn in PERSON_MASKS.items():
        if field in out and out[field] is not None:
            out[field] = fn(str(out[field]))
    for field in BIRTH_DATE_FIELDS:
        if field in out and out[field] is not None:
            out[field] = mask_birth_date(out[field])
    return out


#: every field masked for a role without the unmask permission
MASKED_FIELDS: tuple[str, ...] = (*PERSON_MASKS, *BIRTH_DATE_FIELDS)
