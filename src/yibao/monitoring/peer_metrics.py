"""What institutions, departments and doctors are compared on (同行偏离, domain.md §2.3): each
one's metrics over a period, read from the replica in a few scans (`monitoring.peers` judges
them against their peers).

Two things keep a metric an account of ordinary work rather than of a few extreme bills — the
line and price rules judge those one by one, while 同行偏离 looks for a systematic shift (every
visit billed a grade up):

- **winsorising**: a bill above the `winsor` quantile of its peer group's bills (same kind
  and level) counts at that quantile, its drug, exam and consumable amounts scaled with it
  (the usual 剔除极值 of cost-per-visit statistics). A clinic's one ¥34,000 albumin bill
  among 300 visits of ¥150 lifted its mean cost per visit by half and made it an "outlier" on
  the synthetic city (docs/monitoring.md).
- **a department's or doctor's costliest cases left out** (`drop_costliest`): a department
  sees a few dozen visits, and one drug-heavy bill turns the tiny drug share of a clinic's
  中医科 (acupuncture, massage) into three times its peers'. Up-coding stays a deviation
  without its costliest cases.

Departments and doctors are compared on case-mix adjusted indices (费用消耗指数): their visits
priced at what visits of the same medical type and main-diagnosis category (ICD-10, three
characters) cost on average at institutions of the same kind and level.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb

from yibao.monitoring.sql import PSN, day, valid

#: (metric, Chinese name) scored against peers; a high value is the suspicious direction
METRICS: tuple[tuple[str, str], ...] = (
    ("cost_per_visit", "次均费用"),
    ("drug_share", "药占比"),
    ("exam_share", "检查检验占比"),
    ("consumable_share", "耗占比"),
    ("visits_per_person", "人次人头比"),
    ("avg_los", "平均住院日"),
)
#: shares of the bill: a ratio on a tiny share (a pharmacy's 0.1 % of consumables) is no
#: material difference, so these need `min_share_gap` above the peers' median too
SHARES: frozenset[str] = frozenset({"drug_share", "exam_share", "consumable_share"})
#: a department's or a doctor's metrics, each its observed value over what its case mix
#: would cost at an institution of the same kind and level (费用消耗指数). A surgery that
#: treats the hard cases is not a deviation; one that bills twice what its cases cost
#: elsewhere is.
ADJUSTED_METRICS: tuple[tuple[str, str], ...] = (
    ("cost_index", "次均费用指数"),
    ("drug_index", "药占比指数"),
    ("exam_index", "检查检验占比指数"),
    ("consumable_index", "耗占比指数"),
    ("visits_per_person", "人次人头比"),
)
#: an index of a share → (its sum column, observed share, expected share): a material
#: difference needs the share itself `min_share_gap` above the expected one too
ADJUSTED_SHARES: dict[str, tuple[str, str, str]] = {
    "drug_index": ("drug", "drug_share", "expected_drug_share"),
    "exam_index": ("exam", "exam_share", "expected_exam_share"),
    "consumable_index": ("mcs", "consumable_share", "expected_consumable_share"),
}
#: the amounts of a visit summed for a department or doctor: observed, then expected
AMOUNTS = ("fee", "drug", "exam", "mcs", "e_fee", "e_drug", "e_exam", "e_mcs")


#: the `setl_fact` columns the metrics read (a narrow row through the joins and aggregates)
_FACT_COLUMNS = (
    "setl_id",
    PSN,
    "fixmedins_code",
    "med_type",
    "maindiag_code",
    "visit_kind",
    "ipt_days",
    "caty",
    "dr_code",
    "medfee_sumamt",
    "drug_sumamt",
    "exam_sumamt",
    "mcs_sumamt",
)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _period(since: date, until: date) -> str:
    return f"{valid('s')} AND s.setl_date BETWEEN {day(since)} AND {day(until)}"


def caps(cur: duckdb.DuckDBPyConnection, since: date, until: date, winsor: float) -> str:
    """The cap of a bill of the period as an SQL expression over `kind` and `hosp_lv`: the
    `winsor` quantile of the bills of its kind and level, read in one scan first so that the
    metric queries stream the facts once instead of materialising them; `NULL` (no cap) when
    `winsor` is 1 or more."""
    if winsor >= 1:
        return "NULL"
    rows = cur.execute(
        f"""
        SELECT COALESCE(d.kind, ''), COALESCE(d.hosp_lv, ''),
               CAST(quantile_cont(s.medfee_sumamt, {float(winsor)}) AS DOUBLE)
        FROM setl_fact s LEFT JOIN fixmedins_dim d USING (fixmedins_code)
        WHERE {_period(since, until)}
        GROUP BY ALL
        """
    ).fetchall()
    if not rows:
        return "NULL"
    cases = " ".join(
        f"WHEN kind = {_literal(kind)} AND hosp_lv = {_literal(lv)} THEN {float(cap)!r}"
        for kind, lv, cap in rows
    )
    return f"CASE {cases} END"


def _weighted(since: date, until: date, cap: str) -> str:
    """The period's valid settlements with their institution's kind and level and the weight
    `w` that brings a bill above its cap down to it (1 for the others)."""
    return f"""
        SELECT b.*, CASE WHEN b.cap IS NOT NULL AND b.medfee_sumamt > b.cap
                         THEN b.cap / CAST(b.medfee_sumamt AS DOUBLE) ELSE 1.0 END AS w
        FROM (
          SELECT a.*, {cap} AS cap FROM (
            SELECT {", ".join(f"s.{c}" for c in _FACT_COLUMNS)},
                   COALESCE(d.kind, '') AS kind, COALESCE(d.hosp_lv, '') AS hosp_lv
            FROM setl_fact s LEFT JOIN fixmedins_dim d USING (fixmedins_code)
            WHERE {_period(since, until)}
          ) a
        ) b"""


def institution_metrics(
    cur: duckdb.DuckDBPyConnection,
    since: date,
    until: date,
    min_stays: int = 1,
    min_visits: int = 1,
    winsor: float = 1.0,
    cap: str | None = None,
) -> list[dict[str, Any]]:
    """Each institution's metrics over the period, those with `min_visits` visits; the
    length of stay only where it had `min_stays` stays (a handful of stays make an average
    that says nothing). Bills above the `winsor` quantile of their peer group's count at it
    (`capped_bills`); `cap` is `caps(…)` when the caller has it already."""
    cap = caps(cur, since, until, winsor) if cap is None else cap
    result = cur.execute(
        f"""
        SELECT w.fixmedins_code, w.kind, w.hosp_lv,
               count(*) AS visits, count(DISTINCT w.{PSN}) AS persons,
               sum(w.medfee_sumamt * w.w) AS medfee, sum(w.drug_sumamt * w.w) AS drug,
               sum(w.exam_sumamt * w.w) AS exam, sum(w.mcs_sumamt * w.w) AS mcs,
               count(*) FILTER (WHERE w.w < 1) AS capped_bills,
               count(*) FILTER (WHERE w.visit_kind = 'inpatient') AS stays,
               avg(CASE WHEN w.visit_kind = 'inpatient' THEN w.ipt_days END) AS avg_los
        FROM ({_weighted(since, until, cap)}) w
        GROUP BY 1, 2, 3 HAVING count(*) >= {int(min_visits)} ORDER BY 1
        """
    )
    names = [d[0] for d in result.description or []]
    out = []
    for row in result.fetchall():
        r = dict(zip(names, row, strict=True))
        medfee = float(r["medfee"] or 0)
        visits = int(r["visits"])
        r["cost_per_visit"] = medfee / visits if visits else 0.0
        r["drug_share"] = float(r["drug"] or 0) / medfee if medfee else 0.0
        r["exam_share"] = float(r["exam"] or 0) / medfee if medfee else 0.0
        r["consumable_share"] = float(r["mcs"] or 0) / medfee if medfee else 0.0
        r["visits_per_person"] = visits / int(r["persons"]) if r["persons"] else 0.0
        r["avg_los"] = (
            float(r["avg_los"])
            if r["avg_los"] is not None and int(r["stays"]) >= min_stays
            else None
        )
        out.append(r)
    return out


def adjusted_levels(
    cur: duckdb.DuckDBPyConnection,
    since: date,
    until: date,
    levels: Sequence[tuple[str, ...]],
    min_visits: int,
    winsor: float = 1.0,
    drop_costliest: int = 0,
    cap: str | None = None,
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Each department's or doctor's case-mix adjusted metrics over the period
    (`ADJUSTED_METRICS`), those with `min_visits` visits, for each level of `levels` (`by`:
    the `setl_fact` columns naming one; `by` → its rows): the norms in one scan, then a scan
    for each level (no fact is materialised in between). Bills winsorised as in
    `institution_metrics`, for the norm as for the observed; each one's `drop_costliest`
    visits that cost most over what their case costs are left out of its indices (its
    visits and persons count them)."""
    cap = caps(cur, since, until, winsor) if cap is None else cap
    weighted = f"""
        SELECT x.*, COALESCE(left(x.maindiag_code, 3), '') AS dx,
               x.medfee_sumamt * x.w AS fee, x.drug_sumamt * x.w AS drug,
               x.exam_sumamt * x.w AS exam, x.mcs_sumamt * x.w AS mcs
        FROM ({_weighted(since, until, cap)}) x"""
    norm = cur.sql(
        f"""
        SELECT kind, hosp_lv, med_type, dx, avg(fee) AS e_fee, avg(drug) AS e_drug,
               avg(exam) AS e_exam, avg(mcs) AS e_mcs
        FROM ({weighted}) v GROUP BY ALL
        """
    ).to_arrow_table()
    costliest = (
        f"max_by({{{', '.join(f'{a!r}: v.{a}' for a in AMOUNTS)}}}, "
        f"{{'r': v.fee / GREATEST(v.e_fee, 0.01), 's': v.setl_id}}, {int(drop_costliest)})"
        if drop_costliest > 0
        else "[]"
    )
    out: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    cur.register("peer_norm", norm)
    try:
        for by in levels:
            out[by] = _level(cur, since, until, by, weighted, costliest, min_visits)
    finally:
        cur.unregister("peer_norm")
    return out


def _level(
    cur: duckdb.DuckDBPyConnection,
    since: date,
    until: date,
    by: tuple[str, ...],
    weighted: str,
    costliest: str,
    min_visits: int,
) -> list[dict[str, Any]]:
    """One level's rows. Its persons are counted in a scan of their own: a distinct count
    inside the sums makes DuckDB keep every joined fact row aside (a year of 10 M
    settlements did not fit in 1 GB)."""
    keys = ", ".join(str(i) for i in range(1, 4 + len(by)))

    def present(alias: str) -> str:
        return "".join(f" AND {alias}.{c} IS NOT NULL AND {alias}.{c} <> ''" for c in by)

    result = cur.execute(
        f"""
        SELECT v.fixmedins_code, v.kind, v.hosp_lv, {", ".join(f"v.{c}" for c in by)},
               count(*) AS visits,
               sum(v.fee) AS fee, sum(v.drug) AS drug, sum(v.exam) AS exam,
               sum(v.mcs) AS mcs, count(*) FILTER (WHERE v.w < 1) AS capped_bills,
               sum(v.e_fee) AS e_fee, sum(v.e_drug) AS e_drug,
               sum(v.e_exam) AS e_exam, sum(v.e_mcs) AS e_mcs,
               {costliest} AS costliest
        FROM (
          SELECT w.*, n.e_fee, n.e_drug, n.e_exam, n.e_mcs
          FROM ({weighted}) w JOIN peer_norm n USING (kind, hosp_lv, med_type, dx)
        ) v
        WHERE true{present("v")}
        GROUP BY {keys} HAVING count(*) >= {int(min_visits)} ORDER BY {keys}
        """
    )
    names = [d[0] for d in result.description or []]
    rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    persons = {
        tuple(key): int(n)
        for *key, n in cur.execute(
            f"""
            SELECT s.fixmedins_code, {", ".join(f"s.{c}" for c in by)}, count(DISTINCT s.{PSN})
            FROM setl_fact s
            WHERE {_period(since, until)}{present("s")}
            GROUP BY ALL
            """
        ).fetchall()
    }
    for r in rows:
        r["persons"] = persons.get((r["fixmedins_code"], *(r[c] for c in by)), 0)
    return [_indices(r) for r in rows]


def _indices(r: dict[str, Any]) -> dict[str, Any]:
    """A department's or doctor's sums → its indices, without its costliest cases."""
    sums = {a: float(r[a] or 0) for a in AMOUNTS}
    for case in r.pop("costliest") or ():
        for a in AMOUNTS:
            sums[a] -= float(case[a] or 0)
    r["medfee"] = sums["fee"]
    fee, e_fee = sums["fee"], sums["e_fee"]
    r["cost_index"] = fee / e_fee if e_fee > 0 else 0.0
    for index, (column, share, expected) in ADJUSTED_SHARES.items():
        observed = sums[column] / fee if fee > 0 else 0.0
        wanted = sums[f"e_{column}"] / e_fee if e_fee > 0 else 0.0
        r[share], r[expected] = observed, wanted
        r[index] = observed / wanted if wanted > 0 else 0.0
    r["visits_per_person"] = int(r["visits"]) / int(r["persons"]) if r["persons"] else 0.0
    return r
