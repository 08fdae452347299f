"""The demo knowledge base: made-up but plausible rows over the demo catalog's built-in items
(`catalog/demo_tables.py` BUILTIN), so every knowledge-based rule has something to check in the
demo city. `yibao demo` and `yibao kb demo` load it when the knowledge tables are empty; the
simulator's injected anomalies may use the same constants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from yibao.kit.ids import IdGenerator
from yibao.review.kb_rows import import_table
from yibao.storage.tables import KB_TABLES

BEGIN = date(2020, 1, 1)

LIVER_PANEL = "250301001000000"  # 肝功能检测
LIVER_PARTS = (
    "250305011000000",  # ALT
    "250305012000000",  # AST
    "250305013000000",  # GGT
    "250305014000000",  # ALP
    "250307011000000",  # 总胆红素
    "250307012000000",  # 直接胆红素
    "250301013000000",  # 总蛋白
    "250301014000000",  # 白蛋白
)
LIPID_PANEL = "250303001000000"  # 血脂四项
LIPID_PARTS = ("250303012000000", "250303013000000", "250303014000000", "250303015000000")
CONSULT = "110200001000000"  # 普通门诊诊查费
CONSULT_SENIOR = "110200002000000"  # 副主任医师门诊诊查费
NURSING_1 = "120100002000000"  # 一级护理
NURSING_2 = "120100003000000"  # 二级护理
BED = "110900001000000"  # 床位费(三人间)
WARD_ROUND = "110300002000000"  # 住院诊查费
HBA1C = "250302003000000"  # 糖化血红蛋白测定
CT = "210300001000000"  # CT平扫
BLOOD_ROUTINE = "250101015000000"  # 血常规
AMOXICILLIN = "XJ01CAA040E001010100001"  # 阿莫西林胶囊 (粒)
CEFIXIME = "XJ01DDC104A001010100002"  # 头孢克肟分散片 (片)
IBUPROFEN = "XM01AEB060E002010100003"  # 布洛芬缓释胶囊 (粒)
BONE_PLATE = "C1001030100100000004"  # 金属接骨板
ORIF = "331506001000000"  # 骨折切开复位内固定术
SUTURE = "C0303020100100000003"  # 可吸收外科缝线
APPENDECTOMY = "331003001000000"  # 阑尾切除术
TURP = "330900001000000"  # 经尿道前列腺电切术
DELIVERY = "331203001000000"  # 单胎顺产接生


def _d(**values: Any) -> dict[str, Any]:
    return {"begndate": BEGIN, "enddate": None, "memo": None, **values}


def _n(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


DEMO_KB: Mapping[str, Sequence[Mapping[str, Any]]] = {
    "item_pairs": [
        *(
            _d(hilist_code_a=LIVER_PANEL, hilist_code_b=c, relation="includes", memo="肝功能项目内涵")
            for c in LIVER_PARTS
        ),
        *(
            _d(hilist_code_a=LIPID_PANEL, hilist_code_b=c, relation="includes", memo="血脂四项内涵")
            for c in LIPID_PARTS
        ),
        _d(hilist_code_a=NURSING_1, hilist_code_b=NURSING_2, relation="excludes", memo="护理级别互斥"),
        _d(hilist_code_a=CONSULT, hilist_code_b=CONSULT_SENIOR, relation="excludes", memo="诊查费互斥"),
    ],
    "bundles": [
        *(
            _d(bundle_code=LIVER_PANEL, bundle_name="肝功能检测", hilist_code=c, min_parts=3)
            for c in LIVER_PARTS
        ),
        *(
            _d(bundle_code=LIPID_PANEL, bundle_name="血脂四项", hilist_code=c, min_parts=3)
            for c in LIPID_PARTS
        ),
    ],
    "price_limits": [
        _d(hilist_code=CONSULT, hosp_lv="*", max_pric=Decimal("50")),
        _d(hilist_code=CONSULT_SENIOR, hosp_lv="*", max_pric=Decimal("80")),
        _d(hilist_code=BLOOD_ROUTINE, hosp_lv="*", max_pric=Decimal("25")),
        _d(hilist_code=CT, hosp_lv="3", max_pric=Decimal("300")),
        _d(hilist_code=CT, hosp_lv="*", max_pric=Decimal("260")),
        _d(hilist_code=BED, hosp_lv="*", max_pric=Decimal("50")),
        _d(hilist_code=NURSING_1, hosp_lv="*", max_pric=Decimal("39")),
        _d(hilist_code=HBA1C, hosp_lv="*", max_pric=Decimal("80")),
    ],
    "drug_limits": [
        _d(hilist_code=AMOXICILLIN, med_type=None, max_days=_n("7"), max_daily_dose=_n("12"), memo="门诊一般不超过7日用量"),
        _d(hilist_code=CEFIXIME, med_type=None, max_days=_n("14"), max_daily_dose=_n("4")),
        _d(hilist_code=IBUPROFEN, med_type=None, max_days=_n("7"), max_daily_dose=_n("4")),
    ],
    "frequency_limits": [
        _d(hilist_code=CONSULT, per_day=_n("1"), per_admission=None, per_year=None),
        _d(hilist_code=CONSULT_SENIOR, per_day=_n("1"), per_admission=None, per_year=None),
        _d(hilist_code=BED, per_day=_n("1"), per_admission=None, per_year=None),
        _d(hilist_code=WARD_ROUND, per_day=_n("1"), per_admission=None, per_year=None),
        _d(hilist_code=NURSING_1, per_day=_n("1"), per_admission=None, per_year=None),
        _d(hilist_code=HBA1C, per_day=_n("1"), per_admission=None, per_year=_n("4")),
        _d(hilist_code=TURP, per_day=_n("1"), per_admission=_n("1"), per_year=None),
        _d(hilist_code=DELIVERY, per_day=_n("1"), per_admission=_n("1"), per_year=None),
    ],
    "windows": [
        _d(window_key="readmission", days=15, threshold=None, memo="出院15天内再入院"),
        _d(window_key="holding", days=3, threshold=None, memo="再次开药时允许的剩余持有天数"),
        _d(window_key="frequent_visits", days=30, threshold=None, memo="频繁就诊统计期"),
        _d(window_key="same_place", days=0, threshold=Decimal(60), memo="同日两家机构门诊间隔不足60分钟为一卡两地"),
    ],
    "consumable_links": [
        _d(consumable_code=BONE_PLATE, procedure_code=ORIF),
        _d(consumable_code=SUTURE, procedure_code=APPENDECTOMY),
        _d(consumable_code=SUTURE, procedure_code=ORIF),
        _d(consumable_code=SUTURE, procedure_code=DELIVERY),
    ],
}  # fmt: skip


def _date(value: object, default: date) -> date:
    return date.fromisoformat(str(value)[:10]) if value else default


def rows_from_document(doc: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The knowledge tables' rows from a JSON knowledge document in the simulator's shape
    (`simulate/risk_kb_demo.json`: one `begndate`; `bundles` with `component_codes`,
    `consumable_links` with `procedure_codes`, `windows` keyed by `key`, prices as
    `max_price` for every level). Tables the rules do not read are left out."""
    begin = _date(doc.get("begndate"), BEGIN)

    def row(r: Mapping[str, Any], **values: Any) -> dict[str, Any]:
        return {
            "begndate": _date(r.get("begndate"), begin),
            "enddate": _date(r["enddate"], begin) if r.get("enddate") else None,
            "memo": (str(r["memo"])[:500] if r.get("memo") else None),
            **values,
        }

    out: dict[str, list[dict[str, Any]]] = {t: [] for t in DEMO_KB}
    for r in doc.get("item_pairs", []):
        out["item_pairs"].append(
            row(r, hilist_code_a=r["hilist_code_a"], hilist_code_b=r["hilist_code_b"],
                relation=r["relation"])
        )  # fmt: skip
    for r in doc.get("bundles", []):
        parts = list(r.get("component_codes") or [r.get("hilist_code")])
        for code in parts:
            out["bundles"].append(
                row(r, bundle_code=r["bundle_code"], bundle_name=r.get("bundle_name") or "",
                    hilist_code=code, min_parts=int(r.get("min_parts") or min(2, len(parts))))
            )  # fmt: skip
    for r in doc.get("price_limits", []):
        price = r.get("max_pric", r.get("max_price"))
        out["price_limits"].append(
            row(r, hilist_code=r["hilist_code"], hosp_lv=str(r.get("hosp_lv") or "*"),
                max_pric=Decimal(str(price)))
        )  # fmt: skip
    for r in doc.get("drug_limits", []):
        out["drug_limits"].append(
            row(r, hilist_code=r["hilist_code"], med_type=r.get("med_type"),
                max_days=_n(None if r.get("max_days") is None else str(r["max_days"])),
                max_daily_dose=_n(None if r.get("max_daily_dose") is None else str(r["max_daily_dose"])))
        )  # fmt: skip
    for r in doc.get("frequency_limits", []):
        out["frequency_limits"].append(
            row(r, hilist_code=r["hilist_code"],
                **{k: _n(None if r.get(k) is None else str(r[k]))
                   for k in ("per_day", "per_admission", "per_year")})
        )  # fmt: skip
    for r in doc.get("windows", []):
        key = r.get("window_key") or r.get("key")
        threshold = r.get("threshold")
        out["windows"].append(
            row(r, window_key=key, days=None if r.get("days") is None else int(r["days"]),
                threshold=None if threshold is None else Decimal(str(threshold)))
        )  # fmt: skip
    for r in doc.get("consumable_links", []):
        for proc in r.get("procedure_codes") or [r.get("procedure_code")]:
            out["consumable_links"].append(
                row(r, consumable_code=r["consumable_code"], procedure_code=proc)
            )
    return out


def load_demo_kb(
    conn: Connection,
    *,
    ids: IdGenerator,
    now: datetime,
    document: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Load each demo knowledge table that is empty (idempotent); returns rows added per
    table. `document`: a knowledge document to load instead of the built-in rows (the
    simulator's, so that the rules judge the city against the knowledge it was made with)."""
    added: dict[str, int] = {}
    source = rows_from_document(document) if document is not None else DEMO_KB
    for table, rows in source.items():
        count = conn.execute(select(func.count()).select_from(KB_TABLES[table])).scalar_one()
        if count:
            continue
        added[table] = import_table(conn, table, rows, ids=ids, now=now)
    return added
