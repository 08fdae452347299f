"""Rules over the settled fee lines (事后, domain.md §2.2): 挂床住院, 虚构服务, 频次/数量超限 and
重复开药 (持有量), on the replica's `fee_fact` (one row per line a standing settlement settled;
a reversal takes its lines out, docs/replica.md).

Each detector reads the lines settled in the period plus the look-back its rule needs, and
returns the hits whose settlement day lies in the period, so that consecutive incremental runs
find every hit once. A line-unit hit names its line (`feedetl_sn`) beside the visit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import duckdb

from yibao.monitoring.model import PostHit, Thresholds, line_hit, settlement_hit
from yibao.monitoring.sql import PSN, VALID, day, fen

#: 床位费 (01) and 护理费 (07): what a bed-only day bills (MedChrgitmType, codes/dicts.py)
BED_AND_NURSING = ("01", "07")
#: drug lines: 西药费, 中药饮片费, 中成药费 (MedChrgitmType.is_drug)
DRUG_ITEM_TYPES = ("09", "10", "11")
#: how far back an earlier supply or an earlier settlement of the same stay may lie
_LOOKBACK_DAYS = 200


def _rows(
    cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    result = cur.execute(sql, list(params))
    names = [d[0] for d in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _short(since: date, until: date) -> bool:
    """A period shorter than the look-back (a nightly run): the look-back is read for the
    visits or persons of the period only; over a longer one that costs more than it saves."""
    return (until - since).days < _LOOKBACK_DAYS


def _listed(values: Sequence[str]) -> str:
    """A SQL list of short code literals (fixed codes of this module, never caller text)."""
    return ", ".join(f"'{v}'" for v in values)


def bed_hogging(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """挂床住院: a stay with `bed_only_days` or more consecutive days on which only bed and
    nursing lines were billed (nobody treated the patient: domain.md §2.2 "only bed / nursing
    fees on a day"). One hit per stay, naming its longest such run."""
    need = max(1, int(t.bed_only_days))
    rows = _rows(
        cur,
        f"""
        WITH days AS (
          SELECT setl_id, any_value(mdtrt_id) AS mdtrt_id, any_value({PSN}) AS psn,
                 any_value(fixmedins_code) AS fixmedins_code, any_value(setl_date) AS setl_date,
                 fee_date, count(*) AS lines,
                 count(*) FILTER (WHERE med_chrgitm_type NOT IN ({_listed(BED_AND_NURSING)})
                                     OR med_chrgitm_type IS NULL) AS care,
                 sum(det_item_fee_sumamt) AS amount
          FROM fee_fact
          WHERE visit_kind = 'inpatient' AND setl_date BETWEEN {day(since)} AND {day(until)}
          GROUP BY setl_id, fee_date
        ), idle AS (
          SELECT *, fee_date - CAST(row_number() OVER (
                      PARTITION BY setl_id ORDER BY fee_date) AS INTEGER) AS run
          FROM days WHERE care = 0
        ), runs AS (
          SELECT setl_id, any_value(mdtrt_id) AS mdtrt_id, any_value(psn) AS psn,
                 any_value(fixmedins_code) AS fixmedins_code, any_value(setl_date) AS setl_date,
                 min(fee_date) AS first_day, max(fee_date) AS last_day, count(*) AS days,
                 {fen("sum(amount)")} AS amount_fen
          FROM idle GROUP BY setl_id, run HAVING count(*) >= {need}
        )
        SELECT * FROM runs
        QUALIFY row_number() OVER (PARTITION BY setl_id ORDER BY days DESC, first_day) = 1
        ORDER BY setl_id
        """,
    )
    return [
        settlement_hit(
            r,
            category="bed_hogging",
            rule_id="POST-BED-HOGGING",
            amount_fen=int(r["amount_fen"]),
            evidence={
                "first_day": r["first_day"].isoformat(),
                "last_day": r["last_day"].isoformat(),
                "bed_only_days": int(r["days"]),
                "threshold_days": need,
                "why": "仅有床位费与护理费 (only bed and nursing lines on these days)",
            },
        )
        for r in rows
    ]


def fabricated_service(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """虚构服务: a line dated after the patient left — after the discharge date of its stay,
    or after the person's recorded date of death in a visit begun before it (a visit begun
    after death is card_misuse's). Services billed for an absent patient (domain.md §2.2)."""
    del t
    rows = _rows(
        cur,
        f"""
        WITH stays AS (
          SELECT setl_id, CAST(enddate AS DATE) AS discharge
          FROM setl_fact
          WHERE {VALID} AND visit_kind = 'inpatient' AND enddate IS NOT NULL
            AND setl_date BETWEEN {day(since)} AND {day(until)}
        ), after_discharge AS (
          SELECT f.setl_id, f.mdtrt_id, f.{PSN} AS psn, f.fixmedins_code, f.setl_date,
                 f.feedetl_sn, f.hilist_code, f.fee_ocur_time, f.det_item_fee_sumamt,
                 'discharge' AS after, s.discharge AS boundary
          FROM fee_fact f JOIN stays s USING (setl_id)
          WHERE f.visit_kind = 'inpatient' AND f.setl_date BETWEEN {day(since)} AND {day(until)}
            AND f.fee_date > s.discharge
        ), dead AS (
          SELECT {PSN}, death_date FROM psn_dim WHERE death_date IS NOT NULL
        ), after_death AS (
          SELECT f.setl_id, f.mdtrt_id, f.{PSN} AS psn, f.fixmedins_code, f.setl_date,
                 f.feedetl_sn, f.hilist_code, f.fee_ocur_time, f.det_item_fee_sumamt,
                 'death' AS after, p.death_date AS boundary
          FROM fee_fact f JOIN dead p USING ({PSN})
          JOIN setl_fact s ON s.setl_id = f.setl_id
          WHERE f.setl_date BETWEEN {day(since)} AND {day(until)} AND f.fee_date > p.death_date
            AND CAST(COALESCE(s.begndate, s.setl_time) AS DATE) <= p.death_date
        )
        SELECT *, {fen("det_item_fee_sumamt")} AS amount_fen FROM (
          SELECT * FROM after_death UNION ALL SELECT * FROM after_discharge
        )
        QUALIFY row_number() OVER (PARTITION BY setl_id, feedetl_sn ORDER BY after) = 1
        ORDER BY setl_id, feedetl_sn
        """,
    )
    return [
        line_hit(
            r,
            category="fabricated_service",
            rule_id="POST-FABRICATED",
            result_type="violation" if r["after"] == "death" else "suspicious",
            evidence={
                "feedetl_sn": str(r["feedetl_sn"]),
                "after": r["after"],
                "boundary": r["boundary"].isoformat(),
                "fee_ocur_time": r["fee_ocur_time"].isoformat(sep=" "),
                "hilist_code": r["hilist_code"],
                "why": (
                    "费用发生于死亡日期之后 (a charge after the date of death)"
                    if r["after"] == "death"
                    else "费用发生于出院日期之后 (a charge after the discharge date)"
                ),
            },
        )
        for r in rows
    ]


def frequency_limit(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """频次/数量超限 over the settled lines: an item's quantity per day (in a visit), per
    admission or per natural year (a person's) above the knowledge base's frequency limit
    (`frequency_limits`). Every line past the limit is a hit — the lines of a day over its
    daily limit, and from the line that crossed it on for an admission or a year — naming the
    first limit broken (day, then admission, then year), as the real-time rule does.

    Each kind of limit reads only the items that have one: a day's and an admission's the
    lines of the visits settled in the period (an interim settlement's earlier lines
    included, from the visit's admission on), a year's the person's lines of that item since
    1 January."""
    kinds = (
        ("day", 1, [(c, d) for c, d, _a, _y in t.frequency_limits if d is not None]),
        ("admission", 2, [(c, a) for c, _d, a, _y in t.frequency_limits if a is not None]),
        ("year", 3, [(c, y) for c, _d, _a, y in t.frequency_limits if y is not None]),
    )
    # a visit's earlier settlements (a stay's interim ones) lie after its admission: the
    # look-back of a day's or an admission's count starts at the period's first admission
    first = cur.execute(
        "SELECT min(CAST(COALESCE(begndate, setl_time) AS DATE)) FROM setl_fact "
        f"WHERE setl_date BETWEEN {day(since)} AND {day(until)}"
    ).fetchone()
    lookback = first[0] if first and first[0] is not None and first[0] < since else since
    parts: list[str] = []
    params: list[Any] = []
    for period, rank, limits in kinds:
        if not limits:
            continue
        values = ", ".join("(?, CAST(? AS DECIMAL(16,4)))" for _ in limits)
        for code, value in limits:
            params += [code, value]
        lim = f"(SELECT col0 AS hilist_code, col1 AS lim FROM (VALUES {values}))"
        cols = (
            f"f.setl_id, f.mdtrt_id, f.{PSN} AS psn, f.fixmedins_code, f.setl_date, "
            "f.feedetl_sn, f.hilist_code, f.fee_ocur_time, f.det_item_fee_sumamt, lim.lim"
        )
        visits = (
            f"f.mdtrt_id IN (SELECT mdtrt_id FROM fee_fact "
            f"WHERE setl_date BETWEEN {day(since)} AND {day(until)})"
            if _short(since, until)
            else "TRUE"
        )
        # a year's count needs the person's lines of the item since 1 January: read them
        # for the persons and items of the period only (a nightly run's few)
        pairs = (
            f"SEMI JOIN (SELECT DISTINCT {PSN}, hilist_code FROM fee_fact "
            f"WHERE setl_date BETWEEN {day(since)} AND {day(until)}) k "
            f"ON k.{PSN} = f.{PSN} AND k.hilist_code = f.hilist_code"
            if _short(since, until)
            else ""
        )
        if period == "day":
            found = f"""
              SELECT {cols}, sum(f.cnt) OVER (PARTITION BY f.mdtrt_id, f.hilist_code, f.fee_date)
                       AS found
              FROM fee_fact f JOIN {lim} lim USING (hilist_code)
              WHERE f.setl_date BETWEEN {day(lookback)} AND {day(until)} AND {visits}"""
        elif period == "admission":
            found = f"""
              SELECT {cols}, sum(f.cnt) OVER (
                       PARTITION BY f.mdtrt_id, f.hilist_code ORDER BY f.fee_ocur_time,
                       f.feedetl_sn ROWS UNBOUNDED PRECEDING) AS found
              FROM fee_fact f JOIN {lim} lim USING (hilist_code)
              WHERE f.visit_kind = 'inpatient'
                AND f.setl_date BETWEEN {day(lookback)} AND {day(until)} AND {visits}"""
        else:
            found = f"""
              SELECT {cols}, sum(f.cnt) OVER (
                       PARTITION BY f.{PSN}, f.hilist_code, year(f.fee_date)
                       ORDER BY f.fee_ocur_time, f.setl_id, f.feedetl_sn
                       ROWS UNBOUNDED PRECEDING) AS found
              FROM fee_fact f JOIN {lim} lim USING (hilist_code) {pairs}
              WHERE f.setl_date BETWEEN {day(date(since.year, 1, 1))} AND {day(until)}"""
        parts.append(
            f"SELECT *, '{period}' AS per, {rank} AS rank FROM ({found}) "
            f"WHERE found > lim AND setl_date BETWEEN {day(since)} AND {day(until)}"
        )
    if not parts:
        return []
    rows = _rows(
        cur,
        f"""
        SELECT *, {fen("det_item_fee_sumamt")} AS amount_fen
        FROM ({" UNION ALL ".join(parts)})
        QUALIFY row_number() OVER (PARTITION BY setl_id, feedetl_sn ORDER BY rank) = 1
        ORDER BY setl_id, feedetl_sn
        """,
        params,
    )
    return [
        line_hit(
            r,
            category="frequency_limit",
            rule_id="POST-FREQUENCY",
            result_type="violation",
            evidence={
                "feedetl_sn": str(r["feedetl_sn"]),
                "hilist_code": r["hilist_code"],
                "per": r["per"],
                "limit": f"{r['lim'].normalize():f}",
                "found": f"{r['found'].normalize():f}",
                "fee_ocur_time": r["fee_ocur_time"].isoformat(sep=" "),
            },
        )
        for r in rows
    ]


def repeat_prescription(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    """重复开药 (持有量): a drug dispensed at an outpatient visit or a pharmacy while the person
    still holds more than `holding_grace_days` of an earlier supply of the same drug (another
    visit; the supply runs `prd_days` from its dispensing day, `holding_default_days` when the
    line gives none). Inpatient lines are administered on the ward, not held: not counted.
    Over a short period the look-back is read for the persons dispensed a drug in it only."""
    grace = int(t.holding_grace_days)
    default = int(t.holding_default_days)
    start = since - timedelta(days=_LOOKBACK_DAYS)
    drugs = _listed(DRUG_ITEM_TYPES)
    persons = (
        f"""{PSN} IN (
              SELECT {PSN} FROM fee_fact
              WHERE visit_kind <> 'inpatient' AND med_chrgitm_type IN ({drugs})
                AND setl_date BETWEEN {day(since)} AND {day(until)})"""
        if _short(since, until)
        else "TRUE"
    )
    rows = _rows(
        cur,
        f"""
        WITH d AS (
          SELECT setl_id, mdtrt_id, {PSN} AS psn, fixmedins_code, setl_date, feedetl_sn,
                 hilist_code, fee_date, fee_ocur_time, det_item_fee_sumamt,
                 fee_date + CAST(CASE WHEN prd_days > 0 THEN ceil(prd_days) ELSE {default} END
                                 AS INTEGER) AS supply_end
          FROM fee_fact
          WHERE visit_kind <> 'inpatient' AND cnt > 0
            AND med_chrgitm_type IN ({_listed(DRUG_ITEM_TYPES)})
            AND setl_date BETWEEN {day(start)} AND {day(until)}
            AND {persons}
        ), per_visit AS (
          SELECT psn, hilist_code, mdtrt_id, min(fee_date) AS first_day,
                 max(supply_end) AS supply_end
          FROM d GROUP BY psn, hilist_code, mdtrt_id
        ), held AS (
          SELECT *,
                 max(supply_end) OVER w AS held_until,
                 arg_max(mdtrt_id, supply_end) OVER w AS earlier_mdtrt_id
          FROM per_visit
          WINDOW w AS (PARTITION BY psn, hilist_code ORDER BY first_day, mdtrt_id
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        )
        SELECT d.*, h.held_until, h.earlier_mdtrt_id,
               date_diff('day', d.fee_date, h.held_until) AS days_left,
               {fen("d.det_item_fee_sumamt")} AS amount_fen
        FROM d JOIN held h USING (psn, hilist_code, mdtrt_id)
        WHERE d.setl_date BETWEEN {day(since)} AND {day(until)}
          AND h.held_until IS NOT NULL
          AND date_diff('day', d.fee_date, h.held_until) > {grace}
        ORDER BY d.setl_id, d.feedetl_sn
        """,
    )
    return [
        line_hit(
            r,
            category="repeat_prescription",
            rule_id="POST-REPEAT-RX",
            evidence={
                "feedetl_sn": str(r["feedetl_sn"]),
                "hilist_code": r["hilist_code"],
                "dispensed": r["fee_date"].isoformat(),
                "held_until": r["held_until"].isoformat(),
                "days_left": int(r["days_left"]),
                "grace_days": grace,
                "earlier_mdtrt_id": r["earlier_mdtrt_id"],
            },
        )
        for r in rows
    ]
