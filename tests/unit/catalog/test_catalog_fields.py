"""Header mapping (national names and Chinese titles) and CSV text reading."""

from __future__ import annotations

import pytest

from yibao.catalog.fields import HeaderError, canonical, map_header
from yibao.catalog.source import FileRefused, read_csv_text


def test_national_and_chinese_titles_map_to_one_field() -> None:
    assert canonical("hilist_code") == "hilist_code"
    assert canonical("med_list_codg") == "hilist_code"
    assert canonical("医保目录编码") == "hilist_code"
    assert canonical(" 注册名称 ") == "hilist_name"
    assert canonical("收费项目等级") == "chrgitm_lv"
    assert canonical("自付比例") == "selfpay_prop"
    assert canonical("限价") == "hilist_pric_uplmt_amt"
    assert canonical("HILIST_NAME") == "hilist_name"
    assert canonical("序号") is None


def test_header_missing_a_required_column_is_refused() -> None:
    with pytest.raises(HeaderError, match="hilist_name"):
        map_header(["hilist_code", "chrgitm_lv"])


def test_header_naming_a_field_twice_is_refused() -> None:
    with pytest.raises(HeaderError, match="hilist_code"):
        map_header(["hilist_code", "医保目录编码", "hilist_name"])


def test_unknown_columns_are_ignored_and_reported() -> None:
    columns, ignored = map_header(["序号", "医保目录编码", "注册名称", "批准文号"])
    assert columns == {"hilist_code": 1, "hilist_name": 2}
    assert ignored == ["序号", "批准文号"]


def test_csv_text_rows_carry_their_line_numbers() -> None:
    text = 'a,b\n1,2\n\n"x\ny",3\n4,5\n'
    sheet = read_csv_text(text)
    assert sheet.header == ["a", "b"]
    rows = list(sheet.rows)
    assert rows == [(2, ["1", "2"]), (4, ["x\ny", "3"]), (6, ["4", "5"])]


def test_tab_separated_text() -> None:
    sheet = read_csv_text("a\tb\n1\t2\n")
    assert list(sheet.rows) == [(2, ["1", "2"])]


def test_empty_text_is_refused() -> None:
    with pytest.raises(FileRefused, match="表头"):
        read_csv_text("")


def test_binary_is_refused() -> None:
    with pytest.raises(FileRefused):
        read_csv_text("PK\x03\x04\x00\x00garbage")
