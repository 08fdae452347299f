"""`dictionary(name)`: every dictionary's values and labels."""

from __future__ import annotations

import pytest

from yibao.codes import dicts
from yibao.codes.dictionary import UnknownDictionary, dictionary, dictionary_class, dictionary_names
from yibao.codes.regions import PROVINCES, admdvs_problem, province_name


def test_local_dictionaries_are_listed() -> None:
    names = dictionary_names()
    for name in ("hosp_lv", "fixmedins_type", "caty", "psn_idet_type", "insutype", "med_type"):
        assert name in names


def test_values_and_labels_in_order() -> None:
    entries = dictionary("chrgitm_lv")
    assert [(e.value, e.label) for e in entries] == [("01", "甲类"), ("02", "乙类"), ("03", "丙类")]
    assert [e.sort for e in entries] == [1, 2, 3]
    assert all(e.type == "chrgitm_lv" and e.vali_flag == "1" for e in entries)


def test_flag_fields_name_the_yes_no_dictionary() -> None:
    assert [e.label for e in dictionary("lmt_used_flag")] == ["否", "是"]
    assert dictionary_class("vali_flag") is dicts.Flag


def test_appended_dictionaries_are_found_by_snake_case() -> None:
    assert dictionary_class("map_status") is dicts.MapStatus
    assert {e.value for e in dictionary("catalog_kind")} >= {"hilist", "diagnosis"}


def test_every_codedict_is_reachable() -> None:
    reachable = {dictionary_class(n) for n in dictionary_names() if n != "admdvs"}
    defined = {
        obj
        for obj in vars(dicts).values()
        if isinstance(obj, type) and issubclass(obj, dicts.CodeDict) and obj is not dicts.CodeDict
    }
    assert defined <= reachable


def test_admdvs_lists_provinces() -> None:
    entries = dictionary("admdvs")
    assert ("370000", "山东省") in [(e.value, e.label) for e in entries]
    assert len(entries) == len(PROVINCES) + 1


def test_unknown_dictionary() -> None:
    with pytest.raises(UnknownDictionary, match="insutype"):
        dictionary("no_such")


def test_province_helpers() -> None:
    assert province_name("370102") == "山东省"
    assert province_name("660000") == "新疆生产建设兵团"
    assert province_name("990000") is None
    assert admdvs_problem("370199") is None
    assert admdvs_problem("37019") is not None
