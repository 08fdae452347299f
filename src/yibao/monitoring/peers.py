"""Institutions against their peers (同行偏离, domain.md §2.3) and Benford tests of their bill
totals (金额分布异常).

Peers are the institutions of the same kind (hospital, clinic, pharmacy) and level. Each
metric of the period — cost per visit, drug, exam and consumable shares, visits per person
(人次人头比), length of stay — is scored by its robust z-score against the peers; an isolation
forest over all the metrics together (scikit-learn) scores how unusual the combination is. A
hit names the metric, the institution's value, the peers' median and the distance.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import duckdb

from yibao.monitoring.model import PostHit, Thresholds
from yibao.monitoring.sql import PSN, day, fen, valid
from yibao.monitoring.stats import benford_mad, first_digit, robust_z

#: (metric, Chinese name) scored against peers; a high value is the suspicious direction
METRICS: tuple[tuple[str, str], ...] = (
    ("cost_per_visit", "次均费用"),
    ("drug_share", "药占比"),
    ("exam_share", "检查检验占比"),
    ("consumable_share", "耗占比"),
    ("visits_per_person", "人次人头比"),
    ("avg_los", "平均住院日"),
)


def institution_metrics(
    cur: duckdb.DuckDBPyConnection, since: date, until: date
) -> list[dict[str, Any]]:
    result = cur.execute(
        f"""
        SELECT s.fixmedins_code, COALESCE(d.kind, '') AS kind, COALESCE(d.hosp_lv, '') AS hosp_lv,
               count(*) AS visits, count(DISTINCT s.{PSN}) AS persons,
               sum(s.medfee_sumamt) AS medfee, sum(s.drug_sumamt) AS drug,
               sum(s.exam_sumamt) AS exam, sum(s.mcs_sumamt) AS mcs,
               sum(s.fund_pay_sumamt) AS fund,
               avg(CASE WHEN s.visit_kind = 'inpatient' THEN s.ipt_days END) AS avg_los
        FROM setl_fact s LEFT JOIN fixmedins_dim d USING (fixmedins_code)
        WHERE {valid("s")}
          AND s.setl_date BETWEEN {day(since)} AND {day(until)}
        GROUP BY 1, 2, 3 ORDER BY 1
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
        r["avg_los"] = float(r["avg_los"]) if r["avg_los"] is not None else None
        out.append(r)
    return out


def _forest_scores(rows: list[dict[str, Any]]) -> list[float]:
    """Isolation-forest anomaly scores (higher = more unusual) over the metrics, each metric
    scaled by its peers' median and MAD first; a fixed seed keeps a rerun's answer."""
    from sklearn.ensemble import IsolationForest

    columns = [m for m, _ in METRICS if all(r.get(m) is not None for r in rows)]
    if len(rows) < 8 or not columns:
        return [0.0] * len(rows)
    matrix = []
    for r in rows:
        matrix.append(
            [
                max(-10.0, min(10.0, robust_z(float(r[m]), [float(p[m]) for p in rows])))
                for m in columns
            ]
        )
    forest = IsolationForest(n_estimators=200, random_state=7)
    forest.fit(matrix)
    return [float(-s) for s in forest.score_samples(matrix)]


def peer_outliers(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    rows = [r for r in institution_metrics(cur, since, until) if r["visits"] >= t.min_visits]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["kind"], r["hosp_lv"]), []).append(r)
    hits: list[PostHit] = []
    period = f"{since.isoformat()}..{until.isoformat()}"
    for (kind, level), members in sorted(groups.items()):
        if len(members) < t.min_peers:
            continue
        scores = _forest_scores(members)
        ranked = sorted(scores, reverse=True)
        for r, score in zip(members, scores, strict=True):
            findings = []
            for metric, name in METRICS:
                value = r.get(metric)
                peers = [p[metric] for p in members if p is not r and p.get(metric) is not None]
                if value is None or len(peers) < t.min_peers - 1:
                    continue
                z = robust_z(float(value), [float(p) for p in peers])
                if z > t.robust_z:
                    findings.append(
                        {
                            "metric": metric,
                            "name": name,
                            "value": round(float(value), 4),
                            "peer_median": round(sorted(peers)[len(peers) // 2], 4),
                            "robust_z": round(z, 2) if math.isfinite(z) else "inf",
                        }
                    )
            if not findings:
                continue
            hits.append(
                PostHit(
                    category="peer_outlier",
                    rule_id="POST-PEER-OUTLIER",
                    unit="institution",
                    key=f"{r['fixmedins_code']}|{period}",
                    amount_fen=0,
                    fixmedins_code=r["fixmedins_code"],
                    day=until,
                    evidence={
                        "period": period,
                        "peer_group": {"kind": kind, "hosp_lv": level, "size": len(members)},
                        "metrics": findings,
                        "isolation_forest_score": round(score, 4),
                        "isolation_forest_rank": ranked.index(score) + 1,
                        "threshold_robust_z": t.robust_z,
                    },
                )
            )
    return hits


def benford_outliers(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """First digits of each institution's bill totals (medfee_sumamt) against Benford's law:
    a hit when their MAD is above `benford_mad` *and* far above its peers' (the same kind),
    since fixed prices bend every institution's totals a little."""
    result = cur.execute(
        f"""
        SELECT s.fixmedins_code, COALESCE(d.kind, '') AS kind,
               {fen("s.medfee_sumamt")} AS fee_fen
        FROM setl_fact s LEFT JOIN fixmedins_dim d USING (fixmedins_code)
        WHERE {valid("s")}
          AND s.setl_date BETWEEN {day(since)} AND {day(until)} AND s.medfee_sumamt > 0
        """
    )
    counts: dict[str, list[int]] = {}
    kinds: dict[str, str] = {}
    for code, kind, fee_fen in result.fetchall():
        digit = first_digit(int(fee_fen))
        if digit is None:
            continue
        counts.setdefault(code, [0] * 9)[digit - 1] += 1
        kinds[code] = kind
    mads = {c: benford_mad(v) for c, v in counts.items() if sum(v) >= t.benford_min_bills}
    hits: list[PostHit] = []
    period = f"{since.isoformat()}..{until.isoformat()}"
    for code, mad in sorted(mads.items()):
        peers = [m for c, m in mads.items() if c != code and kinds[c] == kinds[code]]
        z = robust_z(mad, peers) if len(peers) >= t.min_peers - 1 else 0.0
        if mad > t.benford_mad and z > t.robust_z:
            total = sum(counts[code])
            hits.append(
                PostHit(
                    category="benford",
                    rule_id="POST-BENFORD",
                    unit="institution",
                    key=f"{code}|{period}",
                    amount_fen=0,
                    fixmedins_code=code,
                    day=until,
                    evidence={
                        "period": period,
                        "bills": total,
                        "first_digit_shares": [round(c / total, 4) for c in counts[code]],
                        "mad": round(mad, 5),
                        "threshold_mad": t.benford_mad,
                        "peer_median_mad": round(sorted(peers)[len(peers) // 2], 5),
                        "robust_z": round(z, 2) if math.isfinite(z) else "inf",
                    },
                )
            )
    return hits
