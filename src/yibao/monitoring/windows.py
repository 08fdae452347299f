"""Windowed rules over a person's history (事后, domain.md §2.2): 分解住院, 同日多次就诊,
一卡两地, 频繁就诊, 住院期间门诊, 住院天数异常, 低标准入院.

Each detector reads `setl_fact` for the period plus the look-back its window needs, and
returns the hits whose anchor (the later visit, the window's first day) lies in the period —
so that consecutive incremental runs find every hit once.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from yibao.monitoring.model import PostHit, Thresholds, settlement_hit
from yibao.monitoring.sql import PSN, VALID, day, diag_group, fen, valid

#: how far back a stay may have begun to matter for a readmission or a visit in the period
_LOOKBACK_DAYS = 200


def _rows(cur: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    result = cur.execute(sql)
    names = [d[0] for d in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def split_admission(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """A readmission within `readmission_days` of the previous discharge for a diagnosis of
    the same ICD-10 category (分解住院): the readmission is the hit."""
    start = since - timedelta(days=_LOOKBACK_DAYS)
    rows = _rows(
        cur,
        f"""
        WITH stays AS (
          SELECT setl_id, mdtrt_id, {PSN} AS psn, fixmedins_code, setl_date,
                 CAST(begndate AS DATE) AS begn, CAST(enddate AS DATE) AS endd,
                 {diag_group("maindiag_code")} AS grp, maindiag_code,
                 {fen("fund_pay_sumamt")} AS fund_fen
          FROM setl_fact
          WHERE {VALID} AND visit_kind = 'inpatient'
            AND setl_date BETWEEN {day(start)} AND {day(until)}
        ), paired AS (
          SELECT *,
                 lag(endd) OVER w AS prev_end, lag(setl_id) OVER w AS prev_setl,
                 lag(grp) OVER w AS prev_grp, lag(fixmedins_code) OVER w AS prev_inst
          FROM stays WINDOW w AS (PARTITION BY psn ORDER BY begn, setl_id)
        )
        SELECT * FROM paired
        WHERE prev_end IS NOT NULL AND grp <> '' AND grp = prev_grp
          AND date_diff('day', prev_end, begn) BETWEEN 0 AND {int(t.readmission_days)}
          AND setl_date BETWEEN {day(since)} AND {day(until)}
        ORDER BY setl_id
        """,
    )
    return [
        settlement_hit(
            r,
            category="split_admission",
            rule_id="POST-SPLIT-ADMISSION",
            amount_fen=int(r["fund_fen"]),
            evidence={
                "previous_setl_id": r["prev_setl"],
                "previous_fixmedins_code": r["prev_inst"],
                "previous_discharge": r["prev_end"].isoformat(),
                "admission": r["begn"].isoformat(),
                "gap_days": (r["begn"] - r["prev_end"]).days,
                "threshold_days": t.readmission_days,
                "diag_group": r["grp"],
                "maindiag_code": r["maindiag_code"],
            },
        )
        for r in rows
    ]


def same_day_visits(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """Outpatient visits of one person at two or more institutions on one day (同日多次就诊):
    every visit after the day's first is a hit; one within `same_place_minutes` of a visit
    at another institution is also 一卡两地 (`card_misuse`): one card, two places at once."""
    rows = _rows(
        cur,
        f"""
        WITH v AS (
          SELECT setl_id, mdtrt_id, {PSN} AS psn, fixmedins_code, setl_date, setl_time,
                 {fen("fund_pay_sumamt")} AS fund_fen
          FROM setl_fact
          WHERE {VALID} AND visit_kind = 'outpatient'
            AND setl_date BETWEEN {day(since)} AND {day(until)}
        ), days AS (
          SELECT psn, setl_date FROM v GROUP BY psn, setl_date
          HAVING count(DISTINCT fixmedins_code) >= 2
        ), ranked AS (
          SELECT v.*,
                 row_number() OVER w AS rn,
                 first_value(fixmedins_code) OVER w AS first_inst,
                 lag(setl_time) OVER w AS prev_time, lag(fixmedins_code) OVER w AS prev_inst,
                 lag(setl_id) OVER w AS prev_setl
          FROM v JOIN days USING (psn, setl_date)
          WINDOW w AS (PARTITION BY v.psn, v.setl_date ORDER BY setl_time, setl_id)
        )
        SELECT * FROM ranked WHERE rn > 1 ORDER BY setl_id
        """,
    )
    hits: list[PostHit] = []
    for r in rows:
        minutes = (
            None
            if r["prev_time"] is None
            else abs((r["setl_time"] - r["prev_time"]).total_seconds()) / 60
        )
        common = {
            "psn_ref": r["psn"],
            "fixmedins_code": r["fixmedins_code"],
            "mdtrt_id": r["mdtrt_id"],
            "setl_id": r["setl_id"],
            "day": r["setl_date"],
            "amount_fen": int(r["fund_fen"]),
        }
        evidence = {
            "visit_of_the_day": int(r["rn"]),
            "previous_setl_id": r["prev_setl"],
            "previous_fixmedins_code": r["prev_inst"],
            "minutes_after_previous": None if minutes is None else round(minutes, 1),
        }
        hits.append(
            PostHit(
                category="same_day_multi_visit",
                rule_id="POST-SAME-DAY",
                unit="visit",
                key=str(r["setl_id"]),
                evidence=evidence,
                **common,
            )
        )
        if (
            minutes is not None
            and r["prev_inst"] != r["fixmedins_code"]
            and minutes < t.same_place_minutes
        ):
            hits.append(
                PostHit(
                    category="card_misuse",
                    rule_id="POST-TWO-PLACES",
                    unit="visit",
                    key=str(r["setl_id"]),
                    evidence={**evidence, "threshold_minutes": t.same_place_minutes},
                    **common,
                )
            )
    return hits


def frequent_visits(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """`frequent_visits` or more outpatient visits within `frequent_days` days (频繁就诊): one
    hit per person and window, windows not overlapping (the first qualifying window, then the
    next one starting after it), anchored on the window's first day."""
    span = int(t.frequent_days)
    start = since - timedelta(days=span)
    rows = _rows(
        cur,
        f"""
        WITH v AS (
          SELECT {PSN} AS psn, setl_date, setl_id, fixmedins_code,
                 {fen("fund_pay_sumamt")} AS fund_fen
          FROM setl_fact
          WHERE {VALID} AND visit_kind = 'outpatient'
            AND setl_date BETWEEN {day(start)} AND {day(until)}
        ), counted AS (
          SELECT *, count(*) OVER (
                   PARTITION BY psn ORDER BY setl_date
                   RANGE BETWEEN CURRENT ROW AND INTERVAL {span - 1} DAYS FOLLOWING) AS n
          FROM v
        ), heavy AS (SELECT DISTINCT psn FROM counted WHERE n >= {int(t.frequent_visits)})
        SELECT v.* FROM v JOIN heavy USING (psn) ORDER BY psn, setl_date, setl_id
        """,
    )
    by_person: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_person.setdefault(str(r["psn"]), []).append(r)
    hits: list[PostHit] = []
    for psn, visits in by_person.items():
        i = 0
        while i < len(visits):
            first = visits[i]["setl_date"]
            end = first + timedelta(days=span - 1)
            window = [v for v in visits[i:] if v["setl_date"] <= end]
            if len(window) >= t.frequent_visits:
                if since <= first <= until:
                    hits.append(
                        PostHit(
                            category="frequent_visits",
                            rule_id="POST-FREQUENT-VISITS",
                            unit="person-window",
                            key=f"{psn}|{first.isoformat()}",
                            amount_fen=sum(int(v["fund_fen"]) for v in window),
                            psn_ref=psn,
                            day=first,
                            evidence={
                                "window_first_day": first.isoformat(),
                                "window_last_day": end.isoformat(),
                                "visits": len(window),
                                "threshold": t.frequent_visits,
                                "window_days": span,
                                "institutions": sorted({v["fixmedins_code"] for v in window}),
                                "setl_ids": [v["setl_id"] for v in window],
                            },
                        )
                    )
                later = [j for j in range(i, len(visits)) if visits[j]["setl_date"] > end]
                i = later[0] if later else len(visits)
            else:
                i += 1
    return hits


def outpatient_during_stay(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """An outpatient or pharmacy settlement on a day strictly inside a stay of the same person
    (住院期间门诊): the admission and discharge days are not inside."""
    start = since - timedelta(days=_LOOKBACK_DAYS)
    rows = _rows(
        cur,
        f"""
        WITH stays AS (
          SELECT {PSN} AS psn, setl_id AS stay_setl, fixmedins_code AS stay_inst,
                 CAST(begndate AS DATE) AS begn, CAST(enddate AS DATE) AS endd
          FROM setl_fact
          WHERE {VALID} AND visit_kind = 'inpatient'
            AND setl_date BETWEEN {day(start)} AND {day(until + timedelta(days=_LOOKBACK_DAYS))}
        ), visits AS (
          SELECT setl_id, mdtrt_id, {PSN} AS psn, fixmedins_code, setl_date, visit_kind,
                 {fen("fund_pay_sumamt")} AS fund_fen
          FROM setl_fact
          WHERE {VALID} AND visit_kind IN ('outpatient', 'pharmacy')
            AND setl_date BETWEEN {day(since)} AND {day(until)}
        )
        SELECT v.*, s.stay_setl, s.stay_inst, s.begn, s.endd
        FROM visits v JOIN stays s
          ON s.psn = v.psn AND v.setl_date > s.begn AND v.setl_date < s.endd
        ORDER BY v.setl_id
        """,
    )
    seen: set[str] = set()
    hits: list[PostHit] = []
    for r in rows:
        if r["setl_id"] in seen:
            continue
        seen.add(r["setl_id"])
        hits.append(
            settlement_hit(
                r,
                category="outpatient_during_stay",
                rule_id="POST-OTP-DURING-STAY",
                amount_fen=int(r["fund_fen"]),
                result_type="violation",
                evidence={
                    "visit_kind": r["visit_kind"],
                    "stay_setl_id": r["stay_setl"],
                    "stay_fixmedins_code": r["stay_inst"],
                    "admission": r["begn"].isoformat(),
                    "discharge": r["endd"].isoformat(),
                },
            )
        )
    return hits


def stay_outliers(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """住院天数异常: a stay longer than `los_ratio` × its diagnosis group's 95th percentile
    (peers: every stay of the group in the period and the look-back, at least `min_peers`).
    低标准入院: an admission for a diagnosis the knowledge base treats as outpatient care
    (`t.outpatient_diagnoses`, ICD-10 prefixes) lasting at most `low_stay_days`."""
    start = since - timedelta(days=_LOOKBACK_DAYS)
    rows = _rows(
        cur,
        f"""
        WITH stays AS (
          SELECT setl_id, mdtrt_id, {PSN} AS psn, fixmedins_code, setl_date, maindiag_code,
                 {diag_group("maindiag_code")} AS grp, COALESCE(ipt_days, 0) AS los,
                 {fen("fund_pay_sumamt")} AS fund_fen, {fen("medfee_sumamt")} AS fee_fen
          FROM setl_fact
          WHERE {VALID} AND visit_kind = 'inpatient'
            AND setl_date BETWEEN {day(start)} AND {day(until)}
        ), peers AS (
          SELECT grp, count(*) AS n, quantile_cont(los, 0.95) AS p95, median(los) AS med
          FROM stays GROUP BY grp
        )
        SELECT s.*, p.n AS peers, p.p95, p.med
        FROM stays s JOIN peers p USING (grp)
        WHERE s.setl_date BETWEEN {day(since)} AND {day(until)}
        ORDER BY s.setl_id
        """,
    )
    prefixes = tuple(p.upper() for p in t.outpatient_diagnoses if p)
    hits: list[PostHit] = []
    for r in rows:
        common = {
            "unit": "visit",
            "key": str(r["setl_id"]),
            "amount_fen": int(r["fund_fen"]),
            "psn_ref": r["psn"],
            "fixmedins_code": r["fixmedins_code"],
            "mdtrt_id": r["mdtrt_id"],
            "setl_id": r["setl_id"],
            "day": r["setl_date"],
        }
        limit = float(r["p95"] or 0) * t.los_ratio
        if int(r["peers"]) >= t.min_peers and limit > 0 and int(r["los"]) > limit:
            hits.append(
                PostHit(
                    category="los_outlier",
                    rule_id="POST-LOS-OUTLIER",
                    evidence={
                        "ipt_days": int(r["los"]),
                        "peer_p95_days": float(r["p95"]),
                        "peer_median_days": float(r["med"]),
                        "threshold_days": round(limit, 1),
                        "ratio": t.los_ratio,
                        "peers": int(r["peers"]),
                        "diag_group": r["grp"],
                    },
                    **common,
                )
            )
        code = str(r["maindiag_code"] or "").upper()
        if prefixes and code.startswith(prefixes) and int(r["los"]) <= t.low_stay_days:
            hits.append(
                PostHit(
                    category="low_threshold_admission",
                    rule_id="POST-LOW-THRESHOLD",
                    evidence={
                        "maindiag_code": code,
                        "ipt_days": int(r["los"]),
                        "max_days": t.low_stay_days,
                        "medfee_fen": int(r["fee_fen"]),
                        "why": "门诊可治疗的诊断住院 (an outpatient diagnosis admitted)",
                    },
                    **common,
                )
            )
    return hits


def after_death(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """冒用医保卡 (死亡后就诊): a visit begun after the person's recorded date of death
    (enrolment's `death_date`, in the replica's `psn_dim`): somebody else used the card."""
    del t
    rows = _rows(
        cur,
        f"""
        WITH dead AS (
          SELECT {PSN}, death_date FROM psn_dim WHERE death_date IS NOT NULL
        )
        SELECT s.setl_id, s.mdtrt_id, s.{PSN} AS psn, s.fixmedins_code, s.setl_date,
               s.visit_kind, CAST(COALESCE(s.begndate, s.setl_time) AS DATE) AS begn,
               d.death_date, {fen("s.fund_pay_sumamt")} AS fund_fen
        FROM setl_fact s JOIN dead d USING ({PSN})
        WHERE {valid("s")} AND s.setl_date BETWEEN {day(since)} AND {day(until)}
          AND CAST(COALESCE(s.begndate, s.setl_time) AS DATE) > d.death_date
        ORDER BY s.setl_id
        """,
    )
    return [
        settlement_hit(
            r,
            category="card_misuse",
            rule_id="POST-AFTER-DEATH",
            amount_fen=int(r["fund_fen"]),
            result_type="violation",
            evidence={
                "visit_kind": r["visit_kind"],
                "visit_date": r["begn"].isoformat(),
                "death_date": r["death_date"].isoformat(),
                "days_after_death": (r["begn"] - r["death_date"]).days,
                "why": "参保人死亡日期之后就诊 (a visit after the date of death)",
            },
        )
        for r in rows
    ]
