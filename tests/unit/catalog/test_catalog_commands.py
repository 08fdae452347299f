"""The catalog transactions' input → typed command parsing (no database)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from yibao.catalog.commands import CatalogDownload, MappingCancel
from yibao.errors import InvalidInput
from yibao.interface.transactions.catalog import (
    parse_download,
    parse_item_query,
    parse_mapping_cancel,
    parse_mapping_upload,
)


def test_download_ver_is_a_number_or_everything() -> None:
    assert parse_download("1301", {"data": {"ver": "12"}}) == CatalogDownload("1301", 12)
    assert parse_download("1301", {"data": {"ver": "V2021"}}).ver == 0
    assert parse_download("1307", {}).ver == 0


def test_item_query_reads_the_filters_once() -> None:
    q = parse_item_query(
        {
            "data": {
                "updt_time": "2024-01-01 00:00:00",
                "page_num": "2",
                "page_size": 50,
                "hilist_name": "片",
                "pinyin": "dk",
                "query_date": "2024-06-01",
            }
        }
    )
    assert q.updt_time == datetime(2024, 1, 1)
    assert (q.page_num, q.page_size, q.vali_flag) == (2, 50, "1")
    assert (q.hilist_name, q.pinyin, q.query_date) == ("片", "dk", date(2024, 6, 1))
    with pytest.raises(InvalidInput, match=r"data\.page_size: 每页最多1000条"):
        parse_item_query(
            {"data": {"updt_time": "2024-01-01 00:00:00", "page_num": 1, "page_size": 1001}}
        )


def test_mapping_upload_names_the_row() -> None:
    row = {
        "fixmedins_hilist_id": "YP0001",
        "fixmedins_hilist_name": "本院片",
        "med_list_codg": "XA01",
        "list_type": "101",
        "spec": "10片",
        "memo": "",
    }
    (parsed,) = parse_mapping_upload({"data": [row]}).data
    assert parsed.extra == {"spec": "10片"} and parsed.begndate is None
    with pytest.raises(InvalidInput, match=r"^data\[1\]: data\[1\]\.fixmedins_hilist_id"):
        parse_mapping_upload({"data": [row, {**row, "fixmedins_hilist_id": None}]})
    with pytest.raises(InvalidInput, match=r"^data\[0\]\.list_type"):
        parse_mapping_upload({"data": [{**row, "list_type": "999"}]})


def test_mapping_cancel() -> None:
    assert parse_mapping_cancel({"data": {"fixmedins_hilist_id": "YP0001"}}) == MappingCancel(
        None, "YP0001", None
    )
