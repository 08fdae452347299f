"""The pure restriction check the settlement and risk rules call."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from yibao.catalog.model import CatalogItem, Restrictions
from yibao.catalog.restrictions import check, violations


def item(**limits: object) -> CatalogItem:
    return CatalogItem(
        hilist_code="XG01AFX122V001010100016",
        hilist_name="硝酸咪康唑栓",
        list_type="101",
        chrgitm_lv="01",
        selfpay_prop=Decimal("0"),
        begndate=date(2020, 1, 1),
        prcunt="枚",
        restrictions=Restrictions(**limits),  # type: ignore[arg-type]
    )


def test_no_restrictions_no_reasons() -> None:
    assert check(item(), gend="1", age=30, hosp_lv="1", med_type="11", diag_codes=[]) == []


def test_sex_restriction() -> None:
    women_only = item(gend="2")
    reasons = check(women_only, gend="1")
    assert len(reasons) == 1 and "限女性使用" in reasons[0] and "男" in reasons[0]
    assert check(women_only, gend="2") == []
    # unknown or unspecified sex is not judged
    assert check(women_only, gend=None) == []
    assert check(women_only, gend="9") == []


def test_age_bounds_min_inclusive_max_exclusive() -> None:
    child = item(age_max=14)
    assert check(child, age=13) == []
    assert "14岁以下" in check(child, age=14)[0]
    adult = item(age_min=18)
    assert check(adult, age=18) == []
    assert "18岁及以上" in check(adult, age=17)[0]
    assert check(child, age=Decimal("13.9")) == []


def test_institution_level() -> None:
    level3 = item(hosp_lv=frozenset({"3"}))
    assert check(level3, hosp_lv="3") == []
    reason = check(level3, hosp_lv="2")[0]
    assert "三级" in reason and "二级" in reason


def test_visit_type_tokens() -> None:
    inpatient = item(med_type=frozenset({"ipt"}))
    assert check(inpatient, med_type="21") == []
    assert check(inpatient, med_type="52") == []
    assert check(inpatient, med_type="2101") == []  # regional inpatient code
    assert "住院" in check(inpatient, med_type="11")[0]
    outpatient_or_emergency = item(med_type=frozenset({"otp"}))
    assert check(outpatient_or_emergency, med_type="13") == []
    assert check(outpatient_or_emergency, med_type="21") != []
    explicit = item(med_type=frozenset({"14"}))
    assert check(explicit, med_type="14") == []
    assert check(explicit, med_type="11") != []


def test_indications_by_prefix() -> None:
    insulin = item(diag_codes=("E10", "E11"))
    assert check(insulin, diag_codes=["I10.x00", "E11.900"]) == []
    reason = check(insulin, diag_codes=["I10.x00"])[0]
    assert "限适应症" in reason and "I10.x00" in reason
    assert "无" in check(insulin, diag_codes=[])[0]
    assert check(insulin, diag_codes=None) == []  # diagnoses unknown: not judged


def test_days_and_quantity_per_line() -> None:
    limited = item(max_days=Decimal("7"), max_cnt=Decimal("2"))
    assert check(limited, prd_days=Decimal("7"), cnt=Decimal("2")) == []
    reasons = check(limited, prd_days=Decimal("8"), cnt=Decimal("3"))
    assert len(reasons) == 2
    assert "7天" in reasons[0] and "8天" in reasons[0]
    assert "2枚" in reasons[1]


def test_violations_name_their_rules_in_a_fixed_order() -> None:
    everything = item(
        gend="2",
        age_min=18,
        hosp_lv=frozenset({"3"}),
        med_type=frozenset({"ipt"}),
        diag_codes=("N76",),
        max_days=Decimal("3"),
        max_cnt=Decimal("1"),
    )
    found = violations(
        everything,
        gend="1",
        age=10,
        hosp_lv="1",
        med_type="11",
        diag_codes=["J06.900"],
        cnt=Decimal("5"),
        prd_days=Decimal("10"),
    )
    assert [v.rule for v in found] == [
        "lmt_gend",
        "lmt_age",
        "lmt_hosp_lv",
        "lmt_med_type",
        "lmt_diag_codes",
        "lmt_days",
        "lmt_cnt",
    ]
    assert all(v.hilist_code == everything.hilist_code for v in found)
    # Chinese first, English in parentheses.
    assert all(" (" in v.reason and v.reason.endswith(")") for v in found)


def test_item_helpers() -> None:
    it = CatalogItem(
        hilist_code="X",
        hilist_name="n",
        list_type="101",
        chrgitm_lv="02",
        selfpay_prop=Decimal("0.1"),
        begndate=date(2024, 1, 1),
        enddate=date(2024, 12, 31),
        selfpay_prop_psn=(("1300", Decimal("0")),),
        lmt_used_flag="1",
        hi_nego_drug_flag="1",
    )
    assert it.selfpay_prop_for("1300") == Decimal("0")
    assert it.selfpay_prop_for("1101") == Decimal("0.1")
    assert it.selfpay_prop_for(None) == Decimal("0.1")
    assert it.valid_on(date(2024, 12, 31)) and not it.valid_on(date(2025, 1, 1))
    assert not it.valid_on(date(2023, 12, 31))
    assert it.flags == "101000"
    assert it.level.label == "乙类"


#: a value other than the default for every field of Restrictions (a new field must be added
#: here, or the test below fails: `empty` names each field)
_SET = {
    "gend": "1",
    "age_min": 0,
    "age_max": 14,
    "hosp_lv": frozenset({"3"}),
    "med_type": frozenset({"ipt"}),
    "diag_codes": ("E11",),
    "max_days": Decimal("7"),
    "max_cnt": Decimal("1"),
}


def test_restrictions_are_empty_only_when_every_field_is_its_default() -> None:
    assert set(_SET) == {f.name for f in dataclasses.fields(Restrictions)}
    assert Restrictions().empty
    for name, value in _SET.items():
        one = Restrictions(**{name: value})  # type: ignore[arg-type]
        assert not one.empty, name
        assert one.empty == (one == Restrictions())
