"""Masking of personal data for display and logs (reference/domain.md §5).

- name → keep the surname: 段正淳 → 段**
- certno → keep the first 1 and last 2: 5***************1X
- phone → keep the first 3 and last 4: 180****1999
- card numbers and tokens → keep the last 4

Pure functions over strings; None stays None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


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
    "card_no": mask_tail,
    "card_sn": mask_tail,
    "ec_token": mask_tail,
}


def mask_person(row: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `row` with every personal field masked."""
    out = dict(row)
    for field, fn in PERSON_MASKS.items():
        if field in out and out[field] is not None:
            out[field] = fn(str(out[field]))
    return out
