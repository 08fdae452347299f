"""异地就医 inter-region clearing (异地就医清算): for a month, what each insured region owes each
region of treatment.

The region of treatment advances the insured region's fund shares — and the personal-account
payments — to its own institutions (they are paid with its local clearing); once a month it
reports, per insured region, what that region owes: the month's 异地 settlements minus the
reversals written in the month, by fund (`fund_pay_type`, 310200 personal account included).
The insured region's books carry the same figures as liabilities. Both sides are built from the
same rows, read two ways — by fund from `setl_fund`, and as bill totals (`fund_pay_sumamt` +
`acct_pay`) from `setl` — and `balanced` says the two agree to the fen for every pair.

A settlement is 异地 when its institution's district (`clr_optins`) lies in a hosted region
other than the person's insured region (`insuplc_admdvs`, as written at settlement); both are
mapped to regions by the policy book, valid on the first day of the month.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import FundPayType
from yibao.errors import InvalidInput
from yibao.policy import PolicyBook
from yibao.policy.model import PolicyRefusal
from yibao.settlement.repo import inter_region as repo

ZERO = Decimal("0.00")


def month_window(month: str) -> tuple[date, datetime, datetime]:
    """'YYYY-MM' → (first day, start, end) of the month; InvalidInput naming `month`."""
    try:
        year, mon = (int(x) for x in month.split("-"))
        first = date(year, mon, 1)
    except ValueError:
        raise InvalidInput(
            f"month: 应为 YYYY-MM 格式的月份 '{month}' (a month as YYYY-MM, e.g. 2024-05)"
        ) from None
    if len(month) != 7:
        raise InvalidInput(f"month: 应为 YYYY-MM 格式的月份 '{month}' (a month as YYYY-MM)")
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, datetime(year, mon, 1), datetime(nxt.year, nxt.month, 1)


def _regions(book: PolicyBook, day: date) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for v in book.versions:
        if v.valid_on(day) and v.admdvs not in seen:
            seen[v.admdvs] = {"admdvs": v.admdvs, "name": v.name, "covers": list(v.covers)}
    return sorted(seen.values(), key=lambda r: r["admdvs"])


def _fund_name(code: str) -> str:
    return FundPayType(code).label if FundPayType.has(code) else code


def report(conn: Connection, book: PolicyBook, *, month: str) -> dict[str, Any]:
    """The month's inter-region clearing: `receivables` (by region of treatment, then insured
    region) and `liabilities` (by insured region, then region of treatment) — the same pairs
    and figures seen from each side —, `regions` with each hosted region's receivable,
    liability and net, and `balanced` when by-fund and bill totals agree for every pair."""
    day, start, end = month_window(month)
    insured_of: dict[str, str | None] = {}
    treated_of: dict[str, str | None] = {}

    def insured(admdvs: str) -> str | None:
        if admdvs not in insured_of:
            try:
                insured_of[admdvs] = book.version_for(admdvs, day).admdvs
            except PolicyRefusal:
                insured_of[admdvs] = None
        return insured_of[admdvs]

    def treated(district: str) -> str | None:
        if district not in treated_of:
            region = book.treatment_region(district, day)
            treated_of[district] = region.admdvs if region is not None else None
        return treated_of[district]

    def pair_of(row: Mapping[str, Any]) -> tuple[str, str] | None:
        t, i = treated(row["clr_optins"]), insured(row["insuplc_admdvs"])
        return (t, i) if t is not None and i is not None and t != i else None

    pairs: dict[tuple[str, str], dict[str, Any]] = {}

    def entry(key: tuple[str, str]) -> dict[str, Any]:
        if key not in pairs:
            pairs[key] = {
                "treatment_admdvs": key[0],
                "insured_admdvs": key[1],
                "setl_cnt": 0,
                "revs_cnt": 0,
                "medfee_sumamt": ZERO,
                "fund_pay_sumamt": ZERO,
                "acct_pay": ZERO,
                "funds": {},
            }
        return pairs[key]

    for row in repo.bill_sums(conn, start, end):
        key = pair_of(row)
        if key is None:
            continue
        e = entry(key)
        e["setl_cnt"] += int(row["setl_cnt"] or 0)
        e["revs_cnt"] += int(row["revs_cnt"] or 0)
        for name in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay"):
            e[name] += row[name]
    for row in repo.fund_sums(conn, start, end):
        key = pair_of(row)
        if key is None:
            continue
        funds = entry(key)["funds"]
        code = row["fund_pay_type"]
        f = funds.setdefault(code, {"settled": ZERO, "reversed": ZERO})
        f["reversed" if row["refd_setl_flag"] == "1" else "settled"] += row["amount"]
    items = []
    balanced = True
    for key in sorted(pairs):
        e = pairs[key]
        funds = [
            {
                "fund_pay_type": code,
                "fund_pay_type_name": _fund_name(code),
                "settled": f["settled"],
                "reversed": f["reversed"],
                "net": f["settled"] + f["reversed"],
            }
            for code, f in sorted(e["funds"].items())
        ]
        owed = sum((f["net"] for f in funds), ZERO)
        bill_total = e["fund_pay_sumamt"] + e["acct_pay"]
        balanced = balanced and owed == bill_total
        items.append({**e, "funds": funds, "owed": owed, "bill_total": bill_total})
    receivables = [dict(i) for i in items]
    liabilities = sorted(
        (dict(i) for i in items), key=lambda i: (i["insured_admdvs"], i["treatment_admdvs"])
    )
    regions = _regions(book, day)
    for region in regions:
        code = region["admdvs"]
        region["receivable"] = sum(
            (i["owed"] for i in items if i["treatment_admdvs"] == code), ZERO
        )
        region["liability"] = sum((i["owed"] for i in items if i["insured_admdvs"] == code), ZERO)
        region["net"] = region["receivable"] - region["liability"]
    return {
        "month": month,
        "regions": regions,
        "receivables": receivables,
        "liabilities": liabilities,
        "owed_sumamt": sum((i["owed"] for i in items), ZERO),
        "balanced": balanced,
    }
