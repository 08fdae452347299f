"""The real-time line rules re-run over settled bills at the post stage (事后复审; docs/monitoring.md
"Re-running the real-time rules").

One implementation, two stages: each settled bill the replica holds becomes the `Bill` the
review saw at settlement — its settled lines with their catalog terms on the fee day, the
visit's diagnoses, the person's sex and age, the institution — and `risk.engine.review` runs on
it with stage `post`, so a rule (GEND-01, INDC-01, …) means at night what it meant at the
counter. Only the rules whose `stages` name `post` run; a region turns the re-run of a rule off
by re-declaring it without `post`.

Why re-run what settlement already checked: the catalog and the knowledge base are corrected
after the fact (a restriction published late, a price standard fixed), a region enables a rule
mid-year, and bills settled while a rule was off or review was switched off
(`YIBAO_REVIEW=off`) were never looked at. A hit names the real-time rule and the line; its id
is a hash of the rule, the settlement and the line, so a rerun stores nothing twice.

A rule that already fired on the visit at the counter (its real-time hit is in the replica's
`rule_hit`) is not reported again: the re-run finds what the counter did not.

What the replica does not keep is read conservatively: the person's age is the settlement's
(`setl_fact.age`, whole years on the settlement day), the history is empty (the windowed
categories are the post-hoc detectors' own), and the pharmacy's stock is unknown
(item_substitution is not re-run).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal

import duckdb
import orjson
from sqlalchemy import Connection

from yibao.catalog import repo as catalog_repo
from yibao.catalog.cache import CatalogCache
from yibao.catalog.model import CatalogItem
from yibao.kit.money import round_fen
from yibao.monitoring.model import PostHit
from yibao.monitoring.replay import REPLAYED, SettledBill, settled_bills
from yibao.review import service as review
from yibao.risk import Bill, Institution, Person
from yibao.risk.engine import review as run_rules
from yibao.risk.kb import KnowledgeBase
from yibao.risk.model import EMPTY_HISTORY, Hit
from yibao.risk.params_io import Rule, RuleSet
from yibao.risk.registry import CATEGORIES

#: the real-time hit's evidence keys a post-hoc hit keeps, at most
_EVIDENCE_LIMIT = 20


def replay_rules(ruleset: RuleSet, wanted: frozenset[str] | None = None) -> dict[str, Rule]:
    """The rules the re-run may apply, by id: enabled, of a re-run category (and, if `wanted`
    is given, one asked for), with `post` among their stages."""
    return {
        r.rule_id: r
        for r in ruleset.rules
        if r.enabled
        and r.category in REPLAYED
        and "post" in r.stages
        and (wanted is None or r.category in wanted)
    }


def watched_codes(conn: Connection, kb: KnowledgeBase, since: date, until: date) -> set[str]:
    """The items a re-run could find something on: restricted by the catalog on some day of
    the period, or named by the knowledge base's line rules."""
    return catalog_repo.restricted_codes(conn, since, until) | set(kb.line_codes())


def _terms(
    conn: Connection, catalog: CatalogCache, bill: SettledBill
) -> Mapping[date, Mapping[str, CatalogItem]]:
    by_day: dict[date, set[str]] = {}
    for ln in bill.lines:
        by_day.setdefault(ln.fee_ocur_time.date(), set()).add(ln.hilist_code)
    return {day: catalog.terms_at(conn, codes, day) for day, codes in by_day.items()}


def bill_of(bill: SettledBill, terms: Mapping[date, Mapping[str, CatalogItem]]) -> Bill | None:
    """The review's bill for a settled one (None: the visit is not in the replica)."""
    if bill.begntime is None or bill.mdtrt_kind is None:
        return None
    lines = [
        review.line_of(
            line_id=ln.feedetl_sn,
            code=ln.hilist_code,
            cnt=ln.cnt,
            pric=ln.pric,
            amount=ln.amount,
            when=ln.fee_ocur_time,
            # a line settlement stored without a list type was outside the catalog then;
            # a later catalog term does not bring it in
            item=terms[ln.fee_ocur_time.date()].get(ln.hilist_code)
            if ln.list_type is not None
            else None,
            prd_days=ln.prd_days,
            hosp_appr_flag=ln.hosp_appr_flag,
            list_type=ln.list_type,
        )
        for ln in bill.lines
    ]
    return review.bill_of(
        mdtrt_id=bill.mdtrt_id,
        scene=review.scene_of(bill.mdtrt_kind),
        med_type=bill.med_type,
        begntime=bill.begntime,
        endtime=bill.endtime,
        diag_codes=bill.diag_codes,
        main_diag=bill.main_diag,
        person=Person(
            psn_no=bill.psn_ref, gend=bill.gend, age=bill.age, death_date=bill.death_date
        ),
        institution=Institution(
            fixmedins_code=bill.fixmedins_code,
            hosp_lv=bill.hosp_lv or "",
            admdvs=bill.admdvs or "",
            pharmacy=bill.kind == "pharmacy",
            fixmedins_type=bill.kind or None,
        ),
        lines=lines,
    )


def _fen(amount: Decimal) -> int:
    return int(round_fen(amount) * 100)


def post_hits(bill: SettledBill, hit: Hit) -> Iterator[PostHit]:
    """A real-time hit on a settled bill as post-hoc hits: one a line it names."""
    amounts = {ln.feedetl_sn: ln.amount for ln in bill.lines}
    # the real-time evidence may hold Decimals and dates: stored as JSON text, as at settlement
    evidence = orjson.loads(
        orjson.dumps(
            {
                "reason": hit.reason,
                "threshold": hit.threshold,
                "value": hit.value,
                **dict(list(hit.evidence.items())[:_EVIDENCE_LIMIT]),
            },
            default=str,
        )
    )
    for line_id in hit.line_ids:
        amount = hit.amount if len(hit.line_ids) == 1 else amounts.get(line_id, Decimal(0))
        yield PostHit(
            category=hit.category,
            rule_id=hit.rule_id,
            unit="line",
            key=f"{bill.setl_id}|{line_id}",
            amount_fen=_fen(amount),
            evidence=evidence,
            psn_ref=bill.psn_ref,
            fixmedins_code=bill.fixmedins_code,
            mdtrt_id=bill.mdtrt_id,
            setl_id=bill.setl_id,
            feedetl_sn=line_id,
            day=bill.setl_date,
            result_type=hit.result_type,
        )


def rerun(
    conn: Connection,
    cur: duckdb.DuckDBPyConnection,
    since: date,
    until: date,
    ruleset: RuleSet,
    kb: KnowledgeBase,
    wanted: frozenset[str] | None = None,
    catalog: CatalogCache | None = None,
) -> list[PostHit]:
    """Every hit of the re-run rules on the bills settled in [since, until], read through
    `cur` (one snapshot of the replica); the catalog and the knowledge base through `conn`."""
    rules = replay_rules(ruleset, wanted)
    if not rules:
        return []
    catalog = catalog or CatalogCache()
    out: list[PostHit] = []
    for settled in settled_bills(cur, since, until, watched_codes(conn, kb, since, until)):
        bill = bill_of(settled, _terms(conn, catalog, settled))
        if bill is None:
            continue
        for hit in run_rules("post", bill, EMPTY_HISTORY, kb, ruleset):
            if (
                hit.rule_id in rules
                and hit.rule_id not in settled.hit_before
                and CATEGORIES[hit.category].unit == "line"
            ):
                out.extend(post_hits(settled, hit))
    return out
