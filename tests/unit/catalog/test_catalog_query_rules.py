"""Pure rules of the paged catalog queries (1304, 1316–1319) and of the new code catalogs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from yibao.catalog.commands_queries import PageRequest
from yibao.catalog.model import DiseEntry
from yibao.catalog.queries import PSN_TYPE_ALL, page_envelope, ratio_rows
from yibao.catalog.rows import ImportDefaults, RowRejected, parse_row


def _page(num: int, size: int) -> PageRequest:
    return PageRequest(updt_time=datetime(2000, 1, 1), page_num=num, page_size=size, vali_flag="1")


def test_the_page_envelope_counts_pages_and_the_first_row() -> None:
    out = page_envelope(_page(3, 10), 25, [{"n": 21}, {"n": 22}, {"n": 23}, {"n": 24}, {"n": 25}])
    assert out["pages"] == out["lastPage"] == 3 and out["firstPage"] == 1
    assert out["startRow"] == 21 and out["size"] == 5 and out["recordCounts"] == 25
    empty = page_envelope(_page(1, 10), 0, [])
    assert empty["pages"] == empty["firstPage"] == empty["startRow"] == 0


@pytest.mark.parametrize(
    ("own", "by_psn", "rows"),
    [
        ("0.10", None, [(PSN_TYPE_ALL, Decimal("0.10"))]),
        ("0.10", "1300:0", [(PSN_TYPE_ALL, Decimal("0.10")), ("1300", Decimal("0"))]),
        # an item without a ratio of its own lists only the person types that have one
        ("0", "1201:0.05", [("1201", Decimal("0.05"))]),
        ("0", "", []),
    ],
)
def test_ratio_rows_lists_the_own_ratio_then_each_person_type(
    own: str, by_psn: str | None, rows: list[tuple[str, Decimal]]
) -> None:
    assert ratio_rows({"selfpay_prop": Decimal(own), "selfpay_prop_psn": by_psn}) == rows


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("tumour_morphology", "M81400/3"),
        ("tumour_morphology", "M8140/3"),
        ("tcm_disease", "A04.01.01."),
        ("tcm_syndrome", "B01.01.01.01."),
    ],
)
def test_the_new_code_catalogs_take_their_codes(kind: str, code: str) -> None:
    entry = parse_row(
        {
            "catalog_kind": kind,
            "hilist_code": code,
            "hilist_name": "名称",
            "begndate": "2020-01-01",
        },
        ImportDefaults(),
    )
    assert isinstance(entry, DiseEntry) and entry.catalog_kind == kind and entry.dise_codg == code


@pytest.mark.parametrize("code", ["M8140", "81400/3", "M81400/33", "M8140-3"])
def test_a_morphology_code_must_read_like_m81400_3(code: str) -> None:
    with pytest.raises(RowRejected) as info:
        parse_row(
            {
                "catalog_kind": "tumour_morphology",
                "hilist_code": code,
                "hilist_name": "腺癌",
                "begndate": "2020-01-01",
            },
            ImportDefaults(),
        )
    assert any("M81400/3" in reason for reason in info.value.reasons)


def test_granules_have_their_list_type() -> None:
    item = parse_row(
        {
            "hilist_code": "KL0001001",
            "hilist_name": "黄芪配方颗粒",
            "list_type": "中药配方颗粒",
            "chrgitm_lv": "02",
            "selfpay_prop": "0.10",
            "begndate": "2020-01-01",
        },
        ImportDefaults(),
    )
    assert not isinstance(item, DiseEntry)
    assert item.list_type == "105" and item.med_chrgitm_type == "10"
