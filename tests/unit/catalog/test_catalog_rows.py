"""Row checks: every bad-input case is rejected with its reason; good rows build items."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from yibao.catalog.model import CatalogItem, DiseEntry
from yibao.catalog.rows import ImportDefaults, RowRejected, infer_list_type, parse_row, resolve_kind

DRUG = "XA01ABD075A002010100483"


def row(**values: str) -> dict[str, str]:
    base = {
        "hilist_code": DRUG,
        "hilist_name": "地喹氯铵含片",
        "list_type": "101",
        "chrgitm_lv": "02",
        "selfpay_prop": "0.10",
        "begndate": "2024-01-01",
    }
    base.update(values)
    return base


def reasons(values: dict[str, str], defaults: ImportDefaults | None = None) -> list[str]:
    with pytest.raises(RowRejected) as info:
        parse_row(values, defaults or ImportDefaults())
    return info.value.reasons


def test_a_good_row() -> None:
    item = parse_row(
        row(
            hilist_pric_uplmt_amt="12.5",
            prcunt="片",
            lmt_gend="女",
            lmt_age_max="14",
            lmt_hosp_lv="二级,三级",
            lmt_med_type="住院;14",
            lmt_diag_codes="E11, E10",
            lmt_days="7",
            lmt_cnt="30",
            selfpay_prop_psn="1300:0;1201:0.05",
            bas_medn_flag="是",
            enddate="2099-12-31",
        ),
        ImportDefaults(),
    )
    assert isinstance(item, CatalogItem)
    assert item.selfpay_prop == Decimal("0.1000")
    assert item.hilist_pric_uplmt_amt == Decimal("12.5")
    assert item.med_chrgitm_type == "09"  # inferred: X = 西药费
    assert item.restrictions.gend == "2"
    assert item.restrictions.hosp_lv == frozenset({"2", "3"})
    assert item.restrictions.med_type == frozenset({"ipt", "14"})
    assert item.restrictions.diag_codes == ("E11", "E10")
    assert item.lmt_used_flag == "1"  # indications make it a 限制使用 item
    assert item.selfpay_prop_for("1300") == Decimal("0")
    assert item.bas_medn_flag == "1"
    assert item.enddate == date(2099, 12, 31)


def test_chinese_values() -> None:
    item = parse_row(
        row(list_type="西药中成药", chrgitm_lv="乙类", selfpay_prop="10%", begndate="2024/1/1"),
        ImportDefaults(),
    )
    assert isinstance(item, CatalogItem)
    assert (item.list_type, item.chrgitm_lv, item.selfpay_prop) == ("101", "02", Decimal("0.1000"))
    assert item.begndate == date(2024, 1, 1)


def test_year_9999_means_open_ended() -> None:
    item = parse_row(row(enddate="9999-12-31"), ImportDefaults())
    assert item.enddate is None


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"hilist_code": "XA01"}, "23位"),
        ({"hilist_code": ""}, "编码为空"),
        ({"hilist_name": ""}, "名称为空"),
        ({"chrgitm_lv": "04"}, "01甲类/02乙类/03丙类"),
        ({"chrgitm_lv": ""}, "收费项目等级为空"),
        ({"selfpay_prop": "1.5"}, "0到1"),
        ({"selfpay_prop": "-0.1"}, "0到1"),
        ({"selfpay_prop": "abc"}, "不是数字"),
        ({"selfpay_prop": ""}, "乙类项目须给出自付比例"),
        ({"selfpay_prop": "0.12345"}, "四位小数"),
        ({"enddate": "2023-12-31"}, "早于开始日期"),
        ({"begndate": ""}, "开始日期为空"),
        ({"begndate": "2024-02-30"}, "不是有效日期"),
        ({"list_type": "999"}, "不在码表中"),
        ({"list_type": "201"}, "15位"),  # a drug code in the service-item list
        ({"hilist_pric_uplmt_amt": "-1"}, "不能为负"),
        ({"hilist_pric_uplmt_amt": "1.1234567"}, "六位小数"),
        ({"lmt_gend": "3"}, "1男/2女"),
        ({"lmt_age_min": "10", "lmt_age_max": "5"}, "须大于最小年龄"),
        ({"lmt_age_max": "2.5"}, "整数岁"),
        ({"lmt_hosp_lv": "四级"}, "限医院等级"),
        ({"lmt_med_type": "门急诊"}, "限医疗类别"),
        ({"lmt_diag_codes": "糖尿病"}, "ICD-10"),
        ({"lmt_days": "0"}, "须大于0"),
        ({"lmt_used_flag": "maybe"}, "0/1"),
        ({"selfpay_prop_psn": "1300"}, "人员类别:比例"),
        ({"selfpay_prop_psn": "1300:2"}, "0到1"),
        ({"med_chrgitm_type": "99"}, "医疗收费项目类别"),
        ({"catalog_kind": "nope"}, "目录种类"),
    ],
)
def test_bad_input_is_rejected_with_its_reason(values: dict[str, str], fragment: str) -> None:
    found = reasons(row(**values))
    assert any(fragment in r for r in found), found


def test_every_problem_of_a_row_is_reported() -> None:
    found = reasons(row(chrgitm_lv="9", selfpay_prop="2", enddate="2000-01-01"))
    assert len(found) == 3


def test_list_type_inferred_from_the_code() -> None:
    assert infer_list_type(DRUG) == "101"
    assert infer_list_type("T000100196") == "102"
    assert infer_list_type("C1402031030000303979") == "301"
    assert infer_list_type("002501010150200") == "201"
    assert infer_list_type("ZJ3701001") is None
    item = parse_row({k: v for k, v in row().items() if k != "list_type"}, ImportDefaults())
    assert isinstance(item, CatalogItem) and item.list_type == "101"
    found = reasons({**row(hilist_code="ZJ3701001"), "list_type": ""})
    assert any("无法由编码" in r for r in found)


def test_defaults_from_kind_and_begndate() -> None:
    defaults = resolve_kind("preparation")
    item = parse_row(
        {"hilist_code": "ZJ3701001", "hilist_name": "清肺止咳合剂", "chrgitm_lv": "01"},
        ImportDefaults(defaults.catalog_kind, defaults.list_type, date(2024, 3, 1)),
    )
    assert isinstance(item, CatalogItem)
    assert (item.list_type, item.begndate, item.selfpay_prop) == (
        "103",
        date(2024, 3, 1),
        Decimal("0.0000"),
    )


def test_class_c_defaults_to_full_self_pay() -> None:
    item = parse_row(row(chrgitm_lv="03", selfpay_prop=""), ImportDefaults())
    assert isinstance(item, CatalogItem) and item.selfpay_prop == Decimal("1.0000")


def test_code_catalog_rows() -> None:
    entry = parse_row(
        {"hilist_code": "I10.x00", "hilist_name": "原发性高血压", "begndate": "2020-01-01"},
        resolve_kind("diagnosis"),
    )
    assert isinstance(entry, DiseEntry) and entry.catalog_kind == "diagnosis"
    chronic = parse_row(
        {
            "hilist_code": "M03900",
            "hilist_name": "高血压",
            "begndate": "2020-01-01",
            "catalog_kind": "chronic_disease",
        },
        ImportDefaults(),
    )
    assert isinstance(chronic, DiseEntry) and chronic.catalog_kind == "chronic_disease"
    found = reasons(
        {"hilist_code": "M0390", "hilist_name": "高血压", "begndate": "2020-01-01"},
        resolve_kind("chronic_disease"),
    )
    assert any("M 加5位数字" in r for r in found)
    found = reasons(
        {"hilist_code": "i10", "hilist_name": "x", "begndate": "2020-01-01"},
        resolve_kind("diagnosis"),
    )
    assert any("ICD-10" in r for r in found)


def test_resolve_kind() -> None:
    assert resolve_kind(None) == ImportDefaults()
    assert resolve_kind("drug").list_type == "101"
    assert resolve_kind("201").list_type == "201"
    assert resolve_kind("operation").catalog_kind == "operation"
    with pytest.raises(ValueError, match="kinds"):
        resolve_kind("icd")
