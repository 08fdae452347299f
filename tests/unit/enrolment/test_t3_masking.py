"""Masking (domain.md §5, issue 17): names, certno, phone, address to the district, and the
birth date to its year, wherever a role without the unmask permission looks."""

from __future__ import annotations

from datetime import date

import pytest

from yibao.enrolment.masking import (
    MASKED_FIELDS,
    mask_address,
    mask_birth_date,
    mask_person,
)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (date(1949, 12, 31), "1949"),
        ("1990-03-07", "1990"),
        ("19900307", "1990"),
        ("", None),
        (None, None),
        ("bad", "****"),
    ],
)
def test_a_birth_date_shows_its_year_only(given: object, shown: str | None) -> None:
    assert mask_birth_date(given) == shown  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("北京市朝阳区建国路88号院3号楼", "北京市朝阳区****"),
        ("广东省深圳市南山区科技园南区", "广东省深圳市南山区****"),
        ("河北省保定市安新县某村12号", "河北省保定市安新县****"),
        ("浙江省杭州市西湖边", "浙江省杭州市****"),
        ("朝阳区", "朝阳区"),
        ("某小区", "某小区"),
        ("无名地址", "****"),
    ],
)
def test_an_address_keeps_its_district(given: str, shown: str) -> None:
    assert mask_address(given) == shown


def test_a_person_is_masked_field_by_field_and_nothing_else_changes() -> None:
    row = {
        "psn_no": "P1",
        "psn_name": "段正淳",
        "certno": "11010119491231002X",
        "tel": "18012341999",
        "addr": "北京市朝阳区建国路88号",
        "brdy": date(1949, 12, 31),
        "gend": "1",
    }
    masked = mask_person(row)
    assert masked == {
        "psn_no": "P1",
        "psn_name": "段**",
        "certno": "1***************2X",
        "tel": "180****1999",
        "addr": "北京市朝阳区****",
        "brdy": "1949",
        "gend": "1",
    }
    assert row["brdy"] == date(1949, 12, 31)  # a copy
    assert {"psn_name", "certno", "tel", "addr", "brdy"} <= set(MASKED_FIELDS)
