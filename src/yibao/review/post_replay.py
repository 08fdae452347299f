"""The real-time line rules re-run over settled bills at the post stage (事后复审; docs/monitoring.md
"Re-running the real-time rules").

One implementation, two stages: each settled bill the replica holds becomes the `Bill` the
review saw at settlement — its settled lines with their catalog terms on the fee day, the
visit's diagnoses, the person's sex and age, the institution — and `risk.engine.review` runs on
it with stage `post` (`risk.engine.rules_for` and `apply`), so a rule (GEND-01, INDC-01, …)
means at night what it meant at the counter. A line settlement already made fully self-paid
(a restriction, a mapping) is still reported, with nothing at stake (`amount` 0,
`evidence.forced_selfpay`). Only the rules whose `stages` name `post` run; a region turns the re-run of a rule off
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

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Protocol

import duckdb
import orjson
from sqlalchemy import Connection

from yibao.catalog import repo as catalog_repo
from yibao.catalog.cache import CatalogCache
from yibao.catalog.model import CatalogItem
from yibao.kit.money import round_fen
from yibao.monitoring.model import PostHit
from yibao.monitoring.replay import REPLAYED, RestrictedTerm, SettledBill, settled_bills
from yibao.review import service as review
from yibao.risk import Bill, Institution, Person
from yibao.risk.engine import apply as apply_rules
from yibao.risk.engine import rules_for
from yibao.risk.kb import KnowledgeBase
from yibao.risk.model import EMPTY_HISTORY, Hit
from yibao.risk.params_io import Rule, RuleSet

#: child_only's default age (risk.rules), when no rule sets one
_CHILD_AGE = 18
#: the real-time hit's evidence keys a post-hoc hit keeps, at most
_EVIDENCE_LIMIT = 20


def restricted_term(item: CatalogItem) -> RestrictedTerm:
    """A restricting catalog term as the replica's read narrows on it."""
    lim = review.limits_of(item)
    return RestrictedTerm(
        hilist_code=item.hilist_code,
        begndate=item.begndate,
        enddate=item.enddate,
        gend=lim.gend,
        age_min=lim.age_min,
        age_max=lim.age_max,
        child_drug=lim.child_drug,
        hosp_lv=tuple(sorted(lim.hosp_lv)),
        med_type=tuple(sorted(lim.med_type)),
        diag_codes=lim.diag_codes,
        max_days=lim.max_days,
        max_cnt=lim.max_cnt,
    )


def child_age(rules: Iterable[Rule]) -> int:
    """The smallest age the rules take for no longer a child (child_only, age_limit)."""
    ages = [
        v
        for r in rules
        if r.category in ("child_only", "age_limit")
        for v in (r.params.get("child_age"),)
        if isinstance(v, int) and not isinstance(v, bool)
    ]
    return min(ages, default=_CHILD_AGE)


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


class Catalog(Protocol):
    """What the re-run reads of the catalog (医保目录)."""

    def restricted_items(self, since: date, until: date) -> list[CatalogItem]: ...

    def terms_at(self, codes: Iterable[str], day: date) -> Mapping[str, CatalogItem]: ...


class StoredCatalog:
    """The row store's catalog (reference data, not a hot table), terms cached per code."""

    def __init__(self, conn: Connection, cache: CatalogCache | None = None) -> None:
        self.conn = conn
        self.cache = cache or CatalogCache()

    def restricted_items(self, since: date, until: date) -> list[CatalogItem]:
        return catalog_repo.restricted_items(self.conn, since, until)

    def terms_at(self, codes: Iterable[str], day: date) -> Mapping[str, CatalogItem]:
        return self.cache.terms_at(self.conn, codes, day)


class Terms:
    """An item's catalog term on a day, each (code, day) asked of the catalog once a run."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._memo: dict[tuple[str, date], CatalogItem | None] = {}

    def __call__(self, code: str, day: date) -> CatalogItem | None:
        key = (code, day)
        try:
            return self._memo[key]
        except KeyError:
            found = self.catalog.terms_at((code,), day).get(code)
            self._memo[key] = found
            return found


def bill_of(bill: SettledBill, term: Callable[[str, date], CatalogItem | None]) -> Bill | None:
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
            item=term(ln.hilist_code, ln.fee_ocur_time.date())
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
    lines = {ln.feedetl_sn: ln for ln in bill.lines}
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
        line = lines.get(line_id)
        if line is not None and line.forced_selfpay:
            # settlement already made it fully self-paid: the finding stands, the fund lost
            # nothing on it
            amount = Decimal(0)
        elif len(hit.line_ids) == 1:
            amount = hit.amount
        else:
            amount = line.amount if line is not None else Decimal(0)
        yield PostHit(
            category=hit.category,
            rule_id=hit.rule_id,
            unit="line",
            key=f"{bill.setl_id}|{line_id}",
            amount_fen=_fen(amount),
            evidence={**evidence, "forced_selfpay": bool(line and line.forced_selfpay)},
            psn_ref=bill.psn_ref,
            fixmedins_code=bill.fixmedins_code,
            mdtrt_id=bill.mdtrt_id,
            setl_id=bill.setl_id,
            feedetl_sn=line_id,
            day=bill.setl_date,
            result_type=hit.result_type,
        )


def rerun(
    catalog: Catalog,
    cur: duckdb.DuckDBPyConnection,
    since: date,
    until: date,
    ruleset: RuleSet,
    kb: KnowledgeBase,
    wanted: frozenset[str] | None = None,
    *,
    narrow: bool = True,
) -> list[PostHit]:
    """Every hit of the re-run rules on the bills settled in [since, until], read through
    `cur` (one snapshot of the replica). The items looked at are those the catalog restricts
    on some day of the period or the knowledge base's line rules name."""
    rules = replay_rules(ruleset, wanted)
    if not rules:
        return []
    terms = [restricted_term(item) for item in catalog.restricted_items(since, until)]
    term = Terms(catalog)
    # the rules for a bill depend on its region, day, scene, level and kind only: chosen once
    # for each such context (engine.rules_for), narrowed to the re-run's
    chosen: dict[tuple[str, date, str, str, str | None], list[Rule]] = {}
    out: list[PostHit] = []
    bills = settled_bills(
        cur, since, until, terms, kb.line_codes(), child_age(rules.values()), narrow=narrow
    )
    for settled in bills:
        bill = bill_of(settled, term)
        if bill is None:
            continue
        inst = bill.institution
        key = (inst.admdvs, bill.day, bill.visit.scene, inst.hosp_lv, inst.fixmedins_type)
        applicable = chosen.get(key)
        if applicable is None:
            applicable = [r for r in rules_for(bill, "post", ruleset) if r.rule_id in rules]
            chosen[key] = applicable
        if settled.hit_before:
            applicable = [r for r in applicable if r.rule_id not in settled.hit_before]
        for hit in apply_rules("post", applicable, bill, EMPTY_HISTORY, kb):
            out.extend(post_hits(settled, hit))
    return out
