"""From base measures to the cost indicators of domain.md §4 — exactly, in Decimal.

Both the replica (DECIMAL yuan) and the row store (integer fen) answer with the same base
measures; `finish` turns either into the same rows: amounts as `Decimal` yuan, counts as
`int`, and the indicators:

| key                 | 指标               | formula                                                  |
|---------------------|--------------------|----------------------------------------------------------|
| avg_fee             | 次均费用           | medfee_sumamt / setl_cnt                                 |
| avg_pool            | 次均统筹           | hifp_pay / setl_cnt (统筹基金)                           |
| avg_fund            | 次均基金支付       | fund_pay_sumamt / setl_cnt                               |
| drug_ratio          | 药占比             | drug_sumamt / medfee_sumamt                              |
| mcs_ratio           | 耗占比             | mcs_sumamt / medfee_sumamt                               |
| exam_ratio          | 检查检验占比       | exam_sumamt / medfee_sumamt                              |
| inscp_reimb_ratio   | 政策范围内报销比例 | fund_pay_sumamt / inscp_scp_amt                          |
| actual_reimb_ratio  | 实际报销比例       | fund_pay_sumamt / medfee_sumamt                          |
| selfpay_ratio       | 自费率             | (fulamt_ownpay_amt + overlmt_selfpay) / medfee_sumamt    |
| admission_rate      | 住院率             | ipt_cnt / otp_cnt (住院人次 / 门诊人次)                  |
| avg_los             | 平均住院日         | ipt_days / ipt_cnt                                       |
| visits_per_person   | 人次人头比         | setl_cnt / psn_cnt (summary only)                        |

Counts are net (a reversal counts −1 on its day). Money rounds with `kit.money.round_fen`;
ratios to 4 decimals and days to 2, both ROUND_HALF_UP. A ratio over zero is `None`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from yibao.codes.dicts import HospLv, Insutype, MedType, PsnType
from yibao.codes.regions import region_name
from yibao.kit.money import from_fen, round_fen
from yibao.replica import rows
from yibao.replica.schema import MEASURE_NAMES, VISIT_KINDS

_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+$")
COUNTS = tuple(m for m in MEASURE_NAMES if m not in rows.SETL_AMOUNTS)
RATIO_Q = Decimal("0.0001")
DAYS_Q = Decimal("0.01")

#: fund columns and their Chinese names (基金支出按基金)
FUNDS: tuple[tuple[str, str], ...] = (
    ("hifp_pay", "基本医疗保险统筹基金"),
    ("cvlserv_pay", "公务员医疗补助资金"),
    ("hifes_pay", "企业补充医疗保险基金"),
    ("hifmi_pay", "居民大病保险资金"),
    ("hifob_pay", "职工大额医疗费用补助基金"),
    ("maf_pay", "医疗救助基金"),
    ("hifdm_pay", "伤残人员医疗保障基金"),
    ("oth_pay", "其他基金"),
    ("acct_pay", "个人账户"),
)

INDICATOR_TITLES = {
    "avg_fee": "次均费用",
    "avg_pool": "次均统筹",
    "avg_fund": "次均基金支付",
    "drug_ratio": "药占比",
    "mcs_ratio": "耗占比",
    "exam_ratio": "检查检验占比",
    "inscp_reimb_ratio": "政策范围内报销比例",
    "actual_reimb_ratio": "实际报销比例",
    "selfpay_ratio": "自费率",
    "admission_rate": "住院率",
    "avg_los": "平均住院日",
    "visits_per_person": "人次人头比",
}


def _ratio(num: Decimal | int, den: Decimal | int, q: Decimal = RATIO_Q) -> Decimal | None:
    if not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(q, rounding=ROUND_HALF_UP)


def _money_per(num: Decimal, den: int) -> Decimal | None:
    return round_fen(num / den) if den else None


def derive(m: dict[str, Any]) -> dict[str, Any]:
    cnt = int(m["setl_cnt"])
    fee = m["medfee_sumamt"]
    out = {
        "avg_fee": _money_per(fee, cnt),
        "avg_pool": _money_per(m["hifp_pay"], cnt),
        "avg_fund": _money_per(m["fund_pay_sumamt"], cnt),
        "drug_ratio": _ratio(m["drug_sumamt"], fee),
        "mcs_ratio": _ratio(m["mcs_sumamt"], fee),
        "exam_ratio": _ratio(m["exam_sumamt"], fee),
        "inscp_reimb_ratio": _ratio(m["fund_pay_sumamt"], m["inscp_scp_amt"]),
        "actual_reimb_ratio": _ratio(m["fund_pay_sumamt"], fee),
        "selfpay_ratio": _ratio(m["fulamt_ownpay_amt"] + m["overlmt_selfpay"], fee),
        "admission_rate": _ratio(m["ipt_cnt"], m["otp_cnt"]),
        "avg_los": _ratio(m["ipt_days"], m["ipt_cnt"], DAYS_Q),
    }
    if "psn_cnt" in m:
        out["visits_per_person"] = _ratio(cnt, m["psn_cnt"], DAYS_Q)
    return out


def label(dim: str | None, key: str) -> str | None:
    """The Chinese name of a dimension value (codes → dictionary labels)."""
    lookup = {
        "insutype": Insutype,
        "med_type": MedType,
        "psn_type": PsnType,
        "hosp_lv": HospLv,
    }.get(dim or "")
    if lookup is not None:
        return lookup(key).label if lookup.has(key) else (key or "未知")
    if dim == "visit_kind":
        return VISIT_KINDS.get(key, key)
    if dim == "total":
        return "合计"
    if dim == "region":
        return region_name(key)
    return None


def _amount(value: Any, *, fen: bool) -> Decimal:
    if value is None:
        return Decimal("0.00")
    if fen:
        return from_fen(int(value))
    return Decimal(value).quantize(Decimal("0.01"))


def finish(
    columns: Sequence[str],
    records: Sequence[Sequence[Any]],
    *,
    dim: str | None,
    fen: bool,
    shape: str = "indicators",
) -> list[dict[str, Any]]:
    """Normalise rows from either side; add labels and indicators (indicator queries)."""
    out: list[dict[str, Any]] = []
    for record in records:
        # `key` is reserved in MySQL: the SQL calls the dimension value `dim_key`
        raw = {("key" if c == "dim_key" else c): v for c, v in zip(columns, record, strict=True)}
        row: dict[str, Any] = {}
        for name, value in raw.items():
            if name in rows.SETL_AMOUNTS:
                row[name] = _amount(value, fen=fen)
            elif name in COUNTS or name == "psn_cnt":
                row[name] = int(value or 0)
            elif name == "key":
                row[name] = "" if value is None else str(value)
            elif hasattr(value, "strftime"):
                row[name] = value.strftime("%Y-%m-%d %H:%M:%S")
            elif isinstance(value, str) and _TS_RE.match(value):
                # SQLite returns its stored datetime text ('… HH:MM:SS.ffffff')
                row[name] = value[:19]
            else:
                row[name] = value
        if shape == "indicators":
            name_label = label(dim, row["key"])
            if "name" not in row or row["name"] is None:
                row["name"] = name_label if name_label is not None else row["key"]
            row.update(derive(row))
        out.append(row)
    return out


def funds(total: dict[str, Any]) -> list[dict[str, Any]]:
    """Unpivot a summary row into one row per fund (基金支出按基金)."""
    return [
        {"fund": code, "name": name, "amount": total.get(code, Decimal("0.00"))}
        for code, name in FUNDS
    ]
