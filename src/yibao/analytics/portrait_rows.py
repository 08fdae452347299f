"""What a portrait reads from the row store by key: a person's chronic filings and current
drug holdings, the rule hits and cases of a person or an institution. Small indexed reads —
the period's aggregates come from the replica (`analytics.portraits`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from yibao.storage.tables import (
    fee_detail,
    mdtrt,
    review_case,
    review_case_hit,
    rule_hit,
    trt_dcla,
)


def chronic_filings(conn: Connection, psn_no: str, on: date) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            trt_dcla.c.dise_codg,
            trt_dcla.c.dise_name,
            trt_dcla.c.fixmedins_code,
            trt_dcla.c.begndate,
            trt_dcla.c.enddate,
        )
        .where(
            trt_dcla.c.psn_no == psn_no,
            trt_dcla.c.dcla_kind == "chronic",
            trt_dcla.c.vali_flag == "1",
        )
        .order_by(trt_dcla.c.begndate)
    ).mappings()
    out = []
    for r in rows:
        end = r["enddate"]
        out.append(
            {
                "dise_codg": r["dise_codg"],
                "dise_name": r["dise_name"],
                "fixmedins_code": r["fixmedins_code"],
                "begndate": r["begndate"].isoformat() if r["begndate"] else None,
                "enddate": end.isoformat() if end else None,
                "current": end is None or end >= on,
            }
        )
    return out


def holdings(conn: Connection, psn_no: str, now: datetime, days: int = 90) -> list[dict[str, Any]]:
    """Drugs dispensed in the last `days` whose supply (`prd_days`) has not run out: the
    person's holding (持有量) per drug, in days left."""
    visits = select(mdtrt.c.mdtrt_id).where(
        mdtrt.c.psn_no == psn_no, mdtrt.c.begntime >= now - timedelta(days=days)
    )
    rows = conn.execute(
        select(
            fee_detail.c.med_list_codg,
            fee_detail.c.hilist_name,
            fee_detail.c.cnt,
            fee_detail.c.prd_days,
            fee_detail.c.fee_ocur_time,
            fee_detail.c.fixmedins_code,
        )
        .where(
            fee_detail.c.mdtrt_id.in_(visits),
            fee_detail.c.list_type.in_(("101", "102", "103", "104")),
        )
        .order_by(fee_detail.c.fee_ocur_time)
    ).mappings()
    held: dict[str, dict[str, Any]] = {}
    for r in rows:
        supply = int(Decimal(r["prd_days"] or 0))
        if supply <= 0:
            continue
        until = r["fee_ocur_time"] + timedelta(days=supply)
        left = (until.date() - now.date()).days
        if left <= 0:
            continue
        entry = held.setdefault(
            str(r["med_list_codg"]),
            {
                "hilist_code": r["med_list_codg"],
                "hilist_name": r["hilist_name"],
                "days_left": 0,
                "last_dispensed": None,
                "fixmedins_code": r["fixmedins_code"],
            },
        )
        entry["days_left"] = max(int(entry["days_left"]), left)
        entry["last_dispensed"] = r["fee_ocur_time"].date().isoformat()
    return sorted(held.values(), key=lambda h: -int(h["days_left"]))


def hits_of_person(conn: Connection, psn_no: str, since: datetime) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            rule_hit.c.hit_id,
            rule_hit.c.rule_id,
            rule_hit.c.category,
            rule_hit.c.stage,
            rule_hit.c.result_type,
            rule_hit.c.fixmedins_code,
            rule_hit.c.setl_id,
            rule_hit.c.amount,
            rule_hit.c.reason,
            rule_hit.c.detected_at,
        )
        .where(rule_hit.c.psn_no == psn_no, rule_hit.c.detected_at >= since)
        .order_by(rule_hit.c.detected_at.desc())
        .limit(200)
    ).mappings()
    return [dict(r) for r in rows]


def cases_of_hits(conn: Connection, hit_ids: list[str]) -> list[dict[str, Any]]:
    if not hit_ids:
        return []
    rows = conn.execute(
        select(
            review_case.c.case_id,
            review_case.c.fixmedins_code,
            review_case.c.state,
            review_case.c.decision,
            review_case.c.decision_amount,
            review_case.c.title,
        )
        .where(
            review_case.c.case_id.in_(
                select(review_case_hit.c.case_id).where(review_case_hit.c.hit_id.in_(hit_ids))
            )
        )
        .order_by(review_case.c.opened_at.desc())
    ).mappings()
    return [dict(r) for r in rows]


def hits_of_institution(conn: Connection, code: str, since: datetime) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            rule_hit.c.category,
            rule_hit.c.result_type,
            func.count().label("hits"),
            func.sum(rule_hit.c.amount).label("amount"),
        )
        .where(rule_hit.c.fixmedins_code == code, rule_hit.c.detected_at >= since)
        .group_by(rule_hit.c.category, rule_hit.c.result_type)
        .order_by(func.count().desc())
    ).mappings()
    return [dict(r) for r in rows]


def cases_of_institution(conn: Connection, code: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            review_case.c.case_id,
            review_case.c.state,
            review_case.c.title,
            review_case.c.amount_at_stake,
            review_case.c.decision,
            review_case.c.decision_amount,
            review_case.c.opened_at,
        )
        .where(review_case.c.fixmedins_code == code)
        .order_by(review_case.c.opened_at.desc())
        .limit(100)
    ).mappings()
    return [dict(r) for r in rows]
