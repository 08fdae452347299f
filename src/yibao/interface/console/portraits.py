"""Portraits for the console (docs/portraits.md): a person's and an institution's, from the
columnar replica (the period's aggregates) and the row store (filings, holdings, hits, cases).

A person portrait shows the person masked unless the viewer's role may unmask and states a
purpose (the person API's rule, audited); an institution sees its own portrait only (404
otherwise)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from yibao.analytics import portrait_rows, portraits
from yibao.errors import InvalidInput, NotFound
from yibao.interface.console import persons
from yibao.interface.console.auth import User
from yibao.kit.clock import local_naive_now
from yibao.replica.service import Replica, ReplicaUnavailable
from yibao.runtime import Platform

#: the default period: the last twelve months
DEFAULT_DAYS = 365


def _period(since: date | None, until: date | None) -> tuple[date, date]:
    end = until or local_naive_now().date()
    start = since or end - timedelta(days=DEFAULT_DAYS)
    if start > end:
        raise InvalidInput(f"since/until: 起始日期晚于结束日期 ({start} > {end}; backwards range)")
    if (end - start).days > 3 * 366:
        raise InvalidInput("since/until: 期间最长三年 (at most three years)")
    return start, end


def _replica(platform: Platform) -> Replica:
    if platform.replica is None:
        raise ReplicaUnavailable("分析副本未启用 (the replica is not running in this process)")
    return platform.replica


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        item = {}
        for k, v in r.items():
            if isinstance(v, Decimal):
                item[k] = str(v.quantize(Decimal("0.01")))
            elif isinstance(v, datetime):
                item[k] = v.isoformat(sep=" ")
            elif isinstance(v, date):
                item[k] = v.isoformat()
            else:
                item[k] = v
        out.append(item)
    return out


def person_portrait(
    platform: Platform,
    user: User,
    psn_no: str,
    *,
    since: date | None = None,
    until: date | None = None,
    unmask: bool = False,
    purpose: str | None = None,
) -> dict[str, Any]:
    start, end = _period(since, until)
    person = persons.get_person(platform, user, psn_no, unmask=unmask, purpose=purpose)
    replica = _replica(platform)
    replica.applier.wait_for(replica.latest_seq())
    with replica.store.snapshot() as (cur, seq):
        utilisation = portraits.person_utilisation(
            cur, replica.store.pseudonyms.ref(psn_no) or "", start, end
        )
    now = local_naive_now()
    with platform.db.read() as conn:
        chronic = portrait_rows.chronic_filings(conn, psn_no, now.date())
        held = portrait_rows.holdings(conn, psn_no, now)
        hits = portrait_rows.hits_of_person(
            conn, psn_no, datetime.combine(start, datetime.min.time())
        )
        cases = portrait_rows.cases_of_hits(conn, [str(h["hit_id"]) for h in hits])
    return {
        "person": person,
        "period": {"since": start.isoformat(), "until": end.isoformat()},
        "seq": seq,
        **utilisation,
        "chronic_conditions": chronic,
        "holdings": held,
        "hits": _plain(hits),
        "cases": _plain(cases),
        "risk": portraits.person_risk(hits, cases, utilisation),
    }


def institution_portrait(
    platform: Platform,
    user: User,
    code: str,
    *,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    if user.fixmedins_codes is not None and code not in user.fixmedins_codes:
        raise NotFound(f"fixmedins_code: 机构不存在 '{code}' (no such institution)")
    start, end = _period(since, until)
    replica = _replica(platform)
    replica.applier.wait_for(replica.latest_seq())
    with replica.store.snapshot() as (cur, seq):
        indicators = portraits.institution_indicators(cur, code, start, end)
        trend = portraits.institution_trend(cur, code, start, end)
    if indicators is None:
        raise NotFound(f"fixmedins_code: 期间内无结算 '{code}' (no settlements in the period)")
    with platform.db.read() as conn:
        hits = portrait_rows.hits_of_institution(
            conn, code, datetime.combine(start, datetime.min.time())
        )
        cases = portrait_rows.cases_of_institution(conn, code)
    if user.fixmedins_codes is not None:  # an institution sees its cases once notified
        cases = [c for c in cases if c["state"] in _VISIBLE]
    return {
        "period": {"since": start.isoformat(), "until": end.isoformat()},
        "seq": seq,
        **indicators,
        "trend": trend,
        "hits": _plain(hits),
        "cases": _plain(cases),
    }


_VISIBLE = frozenset({"notified", "appealed", "appeal_review", "investigation", "decided"})
