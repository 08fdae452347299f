"""A billed item's catalog data becomes the calculator's terms (`settlement.fees._terms`);
data outside the code tables refuses the line, naming the item."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from yibao.catalog.model import CatalogItem
from yibao.codes.dicts import ChrgitmLv, ListType, MedChrgitmType
from yibao.errors import InvalidInput
from yibao.settlement.fees import _terms

ITEM = CatalogItem(
    hilist_code="XG01AFX122V001010100016",
    hilist_name="硝酸咪康唑栓",
    list_type="101",
    chrgitm_lv="02",
    med_chrgitm_type="09",
    selfpay_prop=Decimal("0.10"),
    begndate=date(2020, 1, 1),
    prcunt="枚",
)


def test_the_codes_become_their_members() -> None:
    terms = _terms(ITEM, None, "feedetail[0]")
    assert terms.list_type is ListType("101")
    assert terms.chrgitm_lv is ChrgitmLv("02")
    assert terms.med_chrgitm_type is MedChrgitmType("09")
    assert terms.selfpay_prop == Decimal("0.10")


def test_no_item_type_is_other() -> None:
    terms = _terms(dataclasses.replace(ITEM, med_chrgitm_type=None), None, "feedetail[0]")
    assert terms.med_chrgitm_type is MedChrgitmType.OTHER


@pytest.mark.parametrize(
    "change", [{"list_type": "999"}, {"chrgitm_lv": "07"}, {"med_chrgitm_type": "XX"}]
)
def test_a_code_outside_its_table_refuses_the_line(change: dict[str, str]) -> None:
    with pytest.raises(InvalidInput, match=r"feedetail\[0\].med_list_codg: 目录项目 XG01AFX122V"):
        _terms(dataclasses.replace(ITEM, **change), None, "feedetail[0]")  # type: ignore[arg-type]
