"""Portraits (画像, domain.md §4) from the columnar replica: a person's utilisation and cost, an
institution's indicators against its peers, by month.

Read through one replica snapshot (`ReplicaStore.snapshot`): every figure of a portrait is the
same moment's. Persons appear in the replica by their keyed pseudonym (`PERSON`); the caller
turns a `psn_no` into it. Amounts are `Decimal` yuan; shares are fractions (0–1).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

import duckdb

#: the replica's person column: the keyed pseudonym (`replica.pseudonym`)
PERSON = "psn_ref"
_VALID = "vali_flag = '1' AND COALESCE(refd_setl_flag, '0') <> '1'"


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    result = cur.execute(sql, params)
    names = [d[0] for d in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _money(value: Any) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


def person_utilisation(
    cur: duckdb.DuckDBPyConnection, person: str, since: date, until: date
) -> dict[str, Any]:
    """Visits, cost, fund and self-pay by month and kind; institutions visited; main
    diagnoses; night and weekend visits; stays and the days between them."""
    months = _rows(
        cur,
        f"""
        SELECT strftime(setl_date, '%Y-%m') AS month, visit_kind,
               count(*) AS visits, sum(medfee_sumamt) AS medfee,
               sum(fund_pay_sumamt) AS fund, sum(acct_pay) AS acct, sum(psn_cash_pay) AS cash
        FROM setl_fact
        WHERE {PERSON} = ? AND {_VALID} AND setl_date BETWEEN ? AND ?
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        [person, since, until],
    )
    totals = _rows(
        cur,
        f"""
        SELECT count(*) AS visits, sum(medfee_sumamt) AS medfee, sum(fund_pay_sumamt) AS fund,
               sum(acct_pay) AS acct, sum(psn_cash_pay) AS cash,
               sum(fulamt_ownpay_amt + overlmt_selfpay) AS selfpay,
               count(DISTINCT fixmedins_code) AS institutions,
               sum(CASE WHEN hour(setl_time) >= 22 OR hour(setl_time) < 6 THEN 1 ELSE 0 END) AS night,
               sum(CASE WHEN dayofweek(setl_date) IN (0, 6) THEN 1 ELSE 0 END) AS weekend
        FROM setl_fact WHERE {PERSON} = ? AND {_VALID} AND setl_date BETWEEN ? AND ?
        """,
        [person, since, until],
    )[0]
    institutions = _rows(
        cur,
        f"""
        SELECT s.fixmedins_code, any_value(d.fixmedins_name) AS fixmedins_name,
               count(*) AS visits, sum(s.medfee_sumamt) AS medfee, max(s.setl_date) AS last_visit
        FROM setl_fact s LEFT JOIN fixmedins_dim d USING (fixmedins_code)
        WHERE s.{PERSON} = ? AND s.vali_flag = '1' AND COALESCE(s.refd_setl_flag, '0') <> '1'
          AND s.setl_date BETWEEN ? AND ?
        GROUP BY 1 ORDER BY visits DESC, 1 LIMIT 20
        """,
        [person, since, until],
    )
    diagnoses = _rows(
        cur,
        f"""
        SELECT maindiag_code, count(*) AS visits FROM setl_fact
        WHERE {PERSON} = ? AND {_VALID} AND setl_date BETWEEN ? AND ?
          AND maindiag_code IS NOT NULL AND maindiag_code <> ''
        GROUP BY 1 ORDER BY visits DESC, 1 LIMIT 10
        """,
        [person, since, until],
    )
    stays = _rows(
        cur,
        f"""
        SELECT setl_id, fixmedins_code, CAST(begndate AS DATE) AS begn, CAST(enddate AS DATE) AS endd,
               ipt_days, maindiag_code, medfee_sumamt
        FROM setl_fact
        WHERE {PERSON} = ? AND {_VALID} AND visit_kind = 'inpatient' AND setl_date BETWEEN ? AND ?
        ORDER BY begn
        """,
        [person, since, until],
    )
    medfee = Decimal(totals["medfee"] or 0)
    gaps = [(later["begn"] - earlier["endd"]).days for earlier, later in pairwise(stays)]
    return {
        "months": [
            {
                "month": m["month"],
                "visit_kind": m["visit_kind"],
                "visits": int(m["visits"]),
                "medfee": _money(m["medfee"]),
                "fund": _money(m["fund"]),
                "acct": _money(m["acct"]),
                "cash": _money(m["cash"]),
            }
            for m in months
        ],
        "totals": {
            "visits": int(totals["visits"] or 0),
            "medfee": _money(medfee),
            "fund": _money(totals["fund"]),
            "acct": _money(totals["acct"]),
            "cash": _money(totals["cash"]),
            "selfpay_share": float(Decimal(totals["selfpay"] or 0) / medfee) if medfee else 0.0,
            "institutions": int(totals["institutions"] or 0),
            "night_visits": int(totals["night"] or 0),
            "weekend_visits": int(totals["weekend"] or 0),
        },
        "institutions": [
            {
                "fixmedins_code": i["fixmedins_code"],
                "fixmedins_name": i["fixmedins_name"],
                "visits": int(i["visits"]),
                "medfee": _money(i["medfee"]),
                "last_visit": i["last_visit"].isoformat(),
            }
            for i in institutions
        ],
        "diagnoses": [{"code": d["maindiag_code"], "visits": int(d["visits"])} for d in diagnoses],
        "stays": [
            {
                "setl_id": s["setl_id"],
                "fixmedins_code": s["fixmedins_code"],
                "admission": s["begn"].isoformat(),
                "discharge": s["endd"].isoformat(),
                "ipt_days": int(s["ipt_days"] or 0),
                "maindiag_code": s["maindiag_code"],
                "medfee": _money(s["medfee_sumamt"]),
            }
            for s in stays
        ],
        "readmission_gaps_days": gaps,
    }


#: (key, Chinese name, higher is worse) — the institution indicators of domain.md §4
INDICATORS: tuple[tuple[str, str, bool], ...] = (
    ("cost_per_visit", "次均费用", True),
    ("fund_per_visit", "次均统筹", True),
    ("drug_share", "药占比", True),
    ("consumable_share", "耗占比", True),
    ("exam_share", "检查检验占比", True),
    ("visits_per_person", "人次人头比", True),
    ("admission_rate", "住院率", True),
    ("avg_los", "平均住院日", True),
    ("readmission_rate", "30天再入院率", True),
    ("selfpay_share", "自费率", True),
    ("violation_share", "违规率", True),
)

_INDICATOR_SQL = f"""
    WITH s AS (
      SELECT * FROM setl_fact WHERE {_VALID} AND setl_date BETWEEN ? AND ?
    ), stays AS (
      SELECT fixmedins_code, {PERSON} AS psn, CAST(begndate AS DATE) AS begn,
             CAST(enddate AS DATE) AS endd,
             lead(CAST(begndate AS DATE)) OVER (PARTITION BY {PERSON} ORDER BY begndate) AS next_begn
      FROM s WHERE visit_kind = 'inpatient'
    ), re AS (
      SELECT fixmedins_code, count(*) AS discharges,
             sum(CASE WHEN next_begn IS NOT NULL AND date_diff('day', endd, next_begn) <= 30
                      THEN 1 ELSE 0 END) AS readmissions
      FROM stays GROUP BY 1
    ), hits AS (
      SELECT fixmedins_code, sum(amount) AS hit_amount FROM rule_hit
      WHERE CAST(detected_at AS DATE) BETWEEN ? AND ? GROUP BY 1
    )
    SELECT s.fixmedins_code, any_value(d.fixmedins_name) AS fixmedins_name,
           COALESCE(any_value(d.kind), '') AS kind, COALESCE(any_value(d.hosp_lv), '') AS hosp_lv,
           count(*) AS visits, count(DISTINCT s.{PERSON}) AS persons,
           sum(CASE WHEN s.visit_kind = 'inpatient' THEN 1 ELSE 0 END) AS admissions,
           sum(CASE WHEN s.visit_kind <> 'inpatient' THEN 1 ELSE 0 END) AS outpatient,
           sum(s.medfee_sumamt) AS medfee, sum(s.fund_pay_sumamt) AS fund,
           sum(s.drug_sumamt) AS drug, sum(s.mcs_sumamt) AS mcs, sum(s.exam_sumamt) AS exam,
           sum(s.fulamt_ownpay_amt + s.overlmt_selfpay) AS selfpay,
           avg(CASE WHEN s.visit_kind = 'inpatient' THEN s.ipt_days END) AS avg_los,
           any_value(re.discharges) AS discharges, any_value(re.readmissions) AS readmissions,
           any_value(hits.hit_amount) AS hit_amount
    FROM s LEFT JOIN fixmedins_dim d USING (fixmedins_code)
           LEFT JOIN re USING (fixmedins_code) LEFT JOIN hits USING (fixmedins_code)
    GROUP BY 1
"""


def _indicators(r: dict[str, Any]) -> dict[str, float | None]:
    visits = int(r["visits"] or 0)
    medfee = float(r["medfee"] or 0)
    discharges = int(r["discharges"] or 0)
    outpatient = int(r["outpatient"] or 0)
    return {
        "cost_per_visit": medfee / visits if visits else None,
        "fund_per_visit": float(r["fund"] or 0) / visits if visits else None,
        "drug_share": float(r["drug"] or 0) / medfee if medfee else None,
        "consumable_share": float(r["mcs"] or 0) / (medfee - float(r["drug"] or 0))
        if medfee - float(r["drug"] or 0) > 0
        else None,
        "exam_share": float(r["exam"] or 0) / medfee if medfee else None,
        "visits_per_person": visits / int(r["persons"]) if r["persons"] else None,
        "admission_rate": int(r["admissions"] or 0) / outpatient if outpatient else None,
        "avg_los": float(r["avg_los"]) if r["avg_los"] is not None else None,
        "readmission_rate": int(r["readmissions"] or 0) / discharges if discharges else None,
        "selfpay_share": float(r["selfpay"] or 0) / medfee if medfee else None,
        "violation_share": float(r["hit_amount"] or 0) / medfee if medfee else None,
    }


def percentile(value: float, peers: list[float]) -> float:
    """The share of peers at or below `value` (mid-rank for ties), 0–100."""
    ordered = sorted(peers)
    if not ordered:
        return 50.0
    below = bisect_left(ordered, value)
    equal = bisect_right(ordered, value) - below
    return round(100.0 * (below + 0.5 * equal) / len(ordered), 1)


def institution_indicators(
    cur: duckdb.DuckDBPyConnection, code: str, since: date, until: date
) -> dict[str, Any] | None:
    """The institution's indicators for the period with each one's percentile among its
    peers (same kind and level) and the peers' median; None when it has no settlement."""
    rows = _rows(cur, _INDICATOR_SQL, [since, until, since, until])
    own = next((r for r in rows if r["fixmedins_code"] == code), None)
    if own is None:
        return None
    peers = [r for r in rows if r["kind"] == own["kind"] and r["hosp_lv"] == own["hosp_lv"]]
    values = {r["fixmedins_code"]: _indicators(r) for r in peers}
    mine = values[code]
    out = []
    for key, name, worse_high in INDICATORS:
        value = mine[key]
        peer_values: list[float] = [p for v in values.values() if (p := v[key]) is not None]
        ordered = sorted(peer_values)
        out.append(
            {
                "key": key,
                "name": name,
                "value": None if value is None else round(value, 4),
                "peer_median": None if not ordered else round(ordered[len(ordered) // 2], 4),
                "percentile": None if value is None else percentile(value, peer_values),
                "higher_is_worse": worse_high,
            }
        )
    return {
        "fixmedins_code": code,
        "fixmedins_name": own["fixmedins_name"],
        "kind": own["kind"],
        "hosp_lv": own["hosp_lv"],
        "peers": len(peers),
        "visits": int(own["visits"]),
        "persons": int(own["persons"]),
        "medfee": _money(own["medfee"]),
        "fund": _money(own["fund"]),
        "indicators": out,
    }


def institution_trend(
    cur: duckdb.DuckDBPyConnection, code: str, since: date, until: date
) -> list[dict[str, Any]]:
    """By month: visits, persons, cost per visit, fund, drug and consumable shares."""
    rows = _rows(
        cur,
        f"""
        SELECT strftime(setl_date, '%Y-%m') AS month, count(*) AS visits,
               count(DISTINCT {PERSON}) AS persons, sum(medfee_sumamt) AS medfee,
               sum(fund_pay_sumamt) AS fund, sum(drug_sumamt) AS drug, sum(mcs_sumamt) AS mcs
        FROM setl_fact
        WHERE fixmedins_code = ? AND {_VALID} AND setl_date BETWEEN ? AND ?
        GROUP BY 1 ORDER BY 1
        """,
        [code, since, until],
    )
    out = []
    for r in rows:
        medfee = Decimal(r["medfee"] or 0)
        visits = int(r["visits"])
        out.append(
            {
                "month": r["month"],
                "visits": visits,
                "persons": int(r["persons"]),
                "medfee": _money(medfee),
                "fund": _money(r["fund"]),
                "cost_per_visit": _money(medfee / visits) if visits else "0.00",
                "drug_share": float(Decimal(r["drug"] or 0) / medfee) if medfee else 0.0,
                "consumable_share": float(Decimal(r["mcs"] or 0) / medfee) if medfee else 0.0,
            }
        )
    return out


def person_risk(
    hits: list[dict[str, Any]],
    cases: list[dict[str, Any]],
    utilisation: dict[str, Any],
) -> dict[str, Any]:
    """A person's risk score (0–100) with its reasons: rule hits (a violation weighs more than
    a suspicion), cases decided against the bills, visits spread over many institutions, a
    month of many visits, readmissions soon after discharge (domain.md §4, 风险评分)."""
    reasons: list[dict[str, Any]] = []

    def add(points: int, why: str) -> None:
        if points > 0:
            reasons.append({"points": points, "reason": why})

    violations = sum(1 for h in hits if h.get("result_type") == "violation")
    suspicions = len(hits) - violations
    add(min(45, 15 * violations), f"明确违规疑点 {violations} 条 (violation hits)")
    add(min(24, 6 * suspicions), f"可疑疑点 {suspicions} 条 (suspicious hits)")
    against = [c for c in cases if c.get("decision") in ("deduct", "recover")]
    add(min(40, 20 * len(against)), f"已追回或扣款的案件 {len(against)} 件 (cases decided against)")
    pending = [c for c in cases if c.get("state") != "decided"]
    add(min(20, 10 * len(pending)), f"在办案件 {len(pending)} 件 (open cases)")
    institutions = int(utilisation["totals"]["institutions"])
    add(10 if institutions >= 5 else 0, f"就诊机构 {institutions} 家 (many institutions)")
    per_month: dict[str, int] = {}
    for m in utilisation["months"]:
        if m["visit_kind"] == "outpatient":
            per_month[m["month"]] = per_month.get(m["month"], 0) + int(m["visits"])
    busiest = max(per_month.values(), default=0)
    add(15 if busiest >= 8 else 0, f"单月门诊最多 {busiest} 次 (a month of many visits)")
    soon = [g for g in utilisation["readmission_gaps_days"] if g <= 15]
    add(min(20, 10 * len(soon)), f"出院 15 天内再入院 {len(soon)} 次 (readmissions)")
    score = min(100, sum(int(r["points"]) for r in reasons))
    level = "高" if score >= 60 else "中" if score >= 30 else "低"
    return {"score": score, "level": level, "reasons": reasons}
