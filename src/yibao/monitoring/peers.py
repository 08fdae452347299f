"""Institutions, their departments and their doctors against their peers (同行偏离, domain.md
§2.3) and Benford tests of institutions' bill totals (金额分布异常).

Peers are the institutions of the same kind (hospital, clinic, pharmacy) and level; a
department (the visit's 科别) is compared with the same 科别 at institutions of that kind and
level, a doctor with the doctors of that 科别 there (`LEVELS`). Each
metric of the period — cost per visit, drug, exam and consumable shares, length of stay — is
scored by its robust z-score against the peers; a metric is an outlier when it lies beyond
`robust_z` **and** at least `min_ratio` times the peers' median (a share also `min_share_gap`
above it): a distance in MADs alone
flags institutions whose value is only a little above a tight group (a few per cent of cost),
which is not what 同行偏离 supervision looks for. Visits per person (人次人头比) is reported
beside them but flags nothing on its own: across institutions it follows the catchment's
chronic patients (a pharmacy near a care home), its warning sign is a spike against the
institution's own history (domain.md §2.3). An isolation forest over all the metrics
together (scikit-learn) scores how unusual the combination is. A hit names the metric, the
institution's value, the peers' median and the distance. What the metrics are and how they
are read (winsorised bills, a department's costliest cases left out, the case-mix indices)
is `monitoring.peer_metrics`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from statistics import median
from typing import Any

import duckdb

from yibao.monitoring.model import PostHit, Thresholds
from yibao.monitoring.peer_metrics import (
    ADJUSTED_METRICS,
    ADJUSTED_SHARES,
    METRICS,
    SHARES,
    adjusted_levels,
    caps,
    institution_metrics,
)
from yibao.monitoring.sql import day, fen, valid
from yibao.monitoring.stats import (
    benford_mad,
    benford_noise,
    first_digit,
    robust_z,
    spread,
    z_of,
)

#: the metrics that make a hit (visits per person is evidence only: see the module's text)
FLAGGING: frozenset[str] = frozenset(m for m, _ in (*METRICS, *ADJUSTED_METRICS)) - {
    "visits_per_person"
}


#: a peer group larger than this is measured against its whole spread (see `_outliers`)
LEAVE_ONE_OUT_MAX = 300


@dataclass(frozen=True)
class Level:
    """Who is compared with whom (domain.md §2.3): the rule whose hits it makes, the
    `setl_fact` columns naming one of them (none: the institution), its peer group's
    columns, and the prefix its hits' keys carry (institutions keep their first keys)."""

    name: str
    rule_id: str
    by: tuple[str, ...]
    peers: tuple[str, ...]
    prefix: str


LEVELS: tuple[Level, ...] = (
    Level("institution", "POST-PEER-OUTLIER", (), ("kind", "hosp_lv"), ""),
    # a department (the visit's 科别 `caty`) against the same 科别 at institutions of the
    # same kind and level, its outpatient and inpatient work apart (门诊 and 住院 次均费用 are
    # different measures)
    Level(
        "department",
        "POST-PEER-DEPARTMENT",
        ("caty", "visit_kind"),
        ("kind", "hosp_lv", "caty", "visit_kind"),
        "dept:",
    ),
    # a doctor against the doctors of the same 科别 at institutions of the same kind and level
    Level(
        "doctor",
        "POST-PEER-DOCTOR",
        ("caty", "dr_code", "visit_kind"),
        ("kind", "hosp_lv", "caty", "visit_kind"),
        "dr:",
    ),
)


def _forest_scores(
    rows: list[dict[str, Any]], metrics: tuple[tuple[str, str], ...] = METRICS
) -> list[float]:
    """Isolation-forest anomaly scores (higher = more unusual) over the metrics, each metric
    scaled by its peers' median and MAD first; a fixed seed keeps a rerun's answer."""
    from sklearn.ensemble import IsolationForest

    columns = [m for m, _ in metrics if all(r.get(m) is not None for r in rows)]
    if len(rows) < 8 or not columns:
        return [0.0] * len(rows)
    spreads = {m: spread([float(p[m]) for p in rows]) for m in columns}
    matrix = [[max(-10.0, min(10.0, z_of(float(r[m]), spreads[m]))) for m in columns] for r in rows]
    forest = IsolationForest(n_estimators=200, random_state=7)
    forest.fit(matrix)
    return [float(-s) for s in forest.score_samples(matrix)]


def peer_outliers(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """Institutions, departments and doctors against their peers: the `LEVELS` whose rule
    runs (`Thresholds.peer_levels`)."""
    hits: list[PostHit] = []
    levels = [level for level in LEVELS if level.name in t.peer_levels]
    if not levels:
        return hits
    cap = caps(cur, since, until, t.winsor)
    adjusted = [level.by for level in levels if level.by]
    by_level = (
        adjusted_levels(cur, since, until, adjusted, t.min_visits, t.winsor, t.drop_costliest, cap)
        if adjusted
        else {}
    )
    for level in levels:
        if level.by:
            rows, metrics = by_level[level.by], ADJUSTED_METRICS
        else:
            rows = institution_metrics(cur, since, until, t.min_visits, t.min_visits, t.winsor, cap)
            metrics = METRICS
        hits += _outliers(rows, level, metrics, since, until, t)
    return hits


def _judge(
    r: dict[str, Any],
    members: list[dict[str, Any]],
    shared: dict[str, Any] | None,
    metrics: tuple[tuple[str, str], ...],
    t: Thresholds,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One member's metrics against its peers: `(findings, context)` — the metrics that
    flag it (far beyond `robust_z` and materially above the peers) and the others."""
    findings: list[dict[str, Any]] = []
    context: list[dict[str, Any]] = []
    for metric, name in metrics:
        value = r.get(metric)
        if value is None:
            continue
        group = shared[metric] if shared is not None else None
        if group is not None:
            z, centre = z_of(float(value), group), group.centre
        else:
            peers = [float(p[metric]) for p in members if p is not r and p.get(metric) is not None]
            if len(peers) < t.min_peers - 1:
                continue
            z, centre = robust_z(float(value), peers), float(median(peers))
        ratio = float(value) / centre if centre > 0 else math.inf
        finding = {
            "metric": metric,
            "name": name,
            "value": round(float(value), 4),
            "peer_median": round(centre, 4),
            "robust_z": round(z, 2) if math.isfinite(z) else "inf",
            "ratio": round(ratio, 2) if math.isfinite(ratio) else "inf",
        }
        if metric in ADJUSTED_SHARES:
            _column, share, expected = ADJUSTED_SHARES[metric]
            gap = float(r[share]) - float(r[expected])
            finding["share"] = round(float(r[share]), 4)
            finding["expected_share"] = round(float(r[expected]), 4)
        else:
            gap = float(value) - centre
        material = ratio >= t.min_ratio and (
            (metric not in SHARES and metric not in ADJUSTED_SHARES) or gap >= t.min_share_gap
        )
        if metric in FLAGGING and z > t.robust_z and material:
            findings.append(finding)
        else:
            context.append(finding)
    return findings, context


def _outliers(
    rows: list[dict[str, Any]],
    level: Level,
    metrics: tuple[tuple[str, str], ...],
    since: date,
    until: date,
    t: Thresholds,
) -> list[PostHit]:
    by, peer_by = level.by, level.peers
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r[c] for c in peer_by), []).append(r)
    hits: list[PostHit] = []
    period = f"{since.isoformat()}..{until.isoformat()}"
    for peer_key, members in sorted(groups.items()):
        if len(members) < t.min_peers:
            continue
        # each member against the others; in a large group (hundreds of doctors of a 科别)
        # against the whole group's spread, computed once — one member moves its median and
        # MAD by less than the rounding of the z-score shown
        shared = (
            {m: spread([float(p[m]) for p in members if p.get(m) is not None]) for m, _ in metrics}
            if len(members) > LEAVE_ONE_OUT_MAX
            else None
        )
        judged = [(r, *_judge(r, members, shared, metrics, t)) for r in members]
        if not any(findings for _r, findings, _context in judged):
            continue
        # the isolation forest is evidence (how unusual the whole combination is), not a
        # criterion: fitted only for the groups where a member is flagged
        scores = _forest_scores(members, metrics)
        ranked = sorted(scores, reverse=True)
        for (r, findings, context), score in zip(judged, scores, strict=True):
            if not findings:
                continue
            who = "|".join(
                [r["fixmedins_code"], *(f"{level.prefix}{r[c]}" for c in by[:1])]
                + [str(r[c]) for c in by[1:]]
            )
            hits.append(
                PostHit(
                    category="peer_outlier",
                    rule_id=level.rule_id,
                    unit="institution",
                    key=f"{who}|{period}",
                    amount_fen=0,
                    fixmedins_code=r["fixmedins_code"],
                    day=until,
                    evidence={
                        "period": period,
                        "level": level.name,
                        **{c: r[c] for c in by},
                        "peer_group": {
                            **dict(zip(peer_by, peer_key, strict=True)),
                            "size": len(members),
                        },
                        "metrics": findings,
                        "other_metrics": context,
                        "capped_bills": int(r.get("capped_bills") or 0),
                        "winsor_quantile": t.winsor,
                        "isolation_forest_score": round(score, 4),
                        "isolation_forest_rank": ranked.index(score) + 1,
                        "threshold_robust_z": t.robust_z,
                        "threshold_ratio": t.min_ratio,
                    },
                )
            )
    return hits


def benford_outliers(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """First digits of each institution's bill totals (medfee_sumamt) against Benford's law:
    a hit when their MAD is above `benford_mad` (plus what its number of bills shows by
    chance, `stats.benford_noise`) *and* `benford_z` robust z above its peers' (the same
    kind). Benford's law only describes amounts that span orders of magnitude
    without a price schedule behind them: a peer group whose conforming half (the members at
    or below its median MAD), pooled, does not follow it either (a clinic's bills are a
    consultation and a few fixed-price tests: its totals start with 1 far too often, and so do
    its peers') is not tested — there the first digits tell a price list, not invented
    figures (Nigrini, *Benford's Law*, ch. 1: the conditions for conformity)."""
    result = cur.execute(
        f"""
        SELECT s.fixmedins_code, COALESCE(any_value(d.kind), '') AS kind,
               list({fen("s.medfee_sumamt")}) AS fees
        FROM setl_fact s LEFT JOIN fixmedins_dim d USING (fixmedins_code)
        WHERE {valid("s")}
          AND s.setl_date BETWEEN {day(since)} AND {day(until)} AND s.medfee_sumamt > 0
        GROUP BY s.fixmedins_code
        """
    )
    counts: dict[str, list[int]] = {}
    kinds: dict[str, str] = {}
    for code, kind, fees in result.fetchall():
        if len(fees) < t.benford_min_bills:
            continue
        digits = [0] * 9
        for fee_fen in fees:
            digit = first_digit(int(fee_fen))
            if digit is not None:
                digits[digit - 1] += 1
        counts[code] = digits
        kinds[code] = kind
    mads = {c: benford_mad(v) for c, v in counts.items()}
    groups: dict[str, list[str]] = {}
    for code in sorted(mads):
        groups.setdefault(kinds[code], []).append(code)
    hits: list[PostHit] = []
    period = f"{since.isoformat()}..{until.isoformat()}"
    for _kind, members in sorted(groups.items()):
        if len(members) < t.min_peers:
            continue
        centre = median(mads[c] for c in members)
        pooled = [0] * 9
        for c in members:
            if mads[c] <= centre:
                pooled = [a + b for a, b in zip(pooled, counts[c], strict=True)]
        group_mad = benford_mad(pooled)
        if group_mad > t.benford_mad:
            continue  # the group's own amounts do not follow Benford's law
        for code in members:
            mad = mads[code]
            peers = [mads[c] for c in members if c != code]
            z = robust_z(mad, peers)
            total = sum(counts[code])
            limit = t.benford_mad + benford_noise(total)
            if not (mad > limit and z > t.benford_z):
                continue
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
                        "threshold_mad": round(limit, 5),
                        "peer_median_mad": round(float(median(peers)), 5),
                        "peer_pooled_mad": round(group_mad, 5),
                        "robust_z": round(z, 2) if math.isfinite(z) else "inf",
                        "threshold_robust_z": t.benford_z,
                    },
                )
            )
    return hits
