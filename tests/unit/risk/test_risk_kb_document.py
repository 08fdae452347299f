"""The simulator's knowledge document (`simulate/risk_kb_demo.json` shape) becomes the
knowledge tables' rows: bundles and consumable links per component, prices for every level,
windows with thresholds, drug limits per visit type."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from yibao.review.demo_kb import rows_from_document
from yibao.risk.kb import DrugLimit, KnowledgeBase, Window

DOC = {
    "version": "demo-1",
    "begndate": "2020-01-01",
    "bundles": [{"bundle_code": "B", "bundle_name": "包", "component_codes": ["P1", "P2"]}],
    "price_limits": [{"hilist_code": "S1", "hilist_name": "x", "max_price": "50.00"}],
    "drug_limits": [
        {"hilist_code": "D1", "med_type": "11", "max_days": 7, "max_daily_dose": "12"},
        {"hilist_code": "D1", "med_type": "14", "max_days": 28, "max_daily_dose": "12"},
    ],
    "frequency_limits": [{"hilist_code": "F1", "per_day": 1, "per_admission": None}],
    "windows": [
        {"key": "frequent_visits", "days": 30, "threshold": 10, "memo": "m"},
        {"key": "los_outlier", "days": None, "threshold": 2},
    ],
    "consumable_links": [{"consumable_code": "C1", "procedure_codes": ["O1", "O2"]}],
    "outpatient_diagnoses": [{"diag_code": "J06"}],
}


def test_document_rows() -> None:
    rows = rows_from_document(DOC)
    assert [r["hilist_code"] for r in rows["bundles"]] == ["P1", "P2"]
    assert {r["min_parts"] for r in rows["bundles"]} == {2}
    assert rows["price_limits"][0]["hosp_lv"] == "*"
    assert rows["price_limits"][0]["max_pric"] == Decimal("50.00")
    assert [r["procedure_code"] for r in rows["consumable_links"]] == ["O1", "O2"]
    assert rows["frequency_limits"][0]["per_year"] is None
    assert all(r["begndate"] == date(2020, 1, 1) for t in rows.values() for r in t)
    kb = KnowledgeBase(
        drug_limits=tuple(DrugLimit(**r) for r in rows["drug_limits"]),
        windows=tuple(Window(**r) for r in rows["windows"]),
    )
    day = date(2025, 1, 1)
    chronic = kb.drug_limit("D1", day, "14")
    assert chronic is not None and chronic.max_days == Decimal(28)
    assert kb.drug_limit("D1", day, "13") is None  # no row for every type
    assert kb.window_threshold("frequent_visits", day) == Decimal(10)
    assert kb.window("los_outlier", day, 99) == 99
