"""The single entry point of the review: `review(stage, bill, history, kb, ruleset)`.

Settlement (事中), 3101/3102, `yibao risk evaluate` and the post-hoc review all call it, so a
rule means the same wherever it runs. `part` narrows real-time review to the categories judged
with a fee upload ("upload") or at (pre-)settlement ("settlement"); "all" runs both (a
pharmacy's one-call settlement, 3101/3102, evaluation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from yibao.risk.kb import KnowledgeBase
from yibao.risk.model import NO_LIMITS, Bill, History, Hit, Stage
from yibao.risk.params_io import Rule, RuleSet
from yibao.risk.registry import CATEGORIES, LOGICS, Facts

Part = Literal["all", "upload", "settlement"]


def rules_for(bill: Bill, stage: Stage, ruleset: RuleSet, part: Part = "all") -> list[Rule]:
    """The enabled rules that apply to this bill's region, date, scene, level and kind."""
    inst = bill.institution
    day = bill.day
    scene = bill.visit.scene
    kind = inst.fixmedins_type

    def choose() -> list[Rule]:
        found = ruleset.applicable(
            admdvs=inst.admdvs, day=day, stage=stage, scene=scene, hosp_lv=inst.hosp_lv
        )
        # a rule scoped to institution types applies to institutions of the listed kinds
        # (hospital, clinic, pharmacy: what the register records; a bill without one is out)
        found = [r for r in found if not r.fixmedins_types or kind in r.fixmedins_types]
        if part == "all":
            return found
        return [r for r in found if CATEGORIES[r.category].judged_at == part]

    return list(ruleset.chosen((inst.admdvs, day, stage, scene, inst.hosp_lv, kind, part), choose))


def review(
    stage: Stage,
    bill: Bill,
    history: History,
    kb: KnowledgeBase,
    ruleset: RuleSet,
    *,
    part: Part = "all",
) -> list[Hit]:
    """Every hit of every applicable rule on the bill, in the rule set's order."""
    return apply(stage, rules_for(bill, stage, ruleset, part), bill, history, kb)


def apply(
    stage: Stage, rules: Sequence[Rule], bill: Bill, history: History, kb: KnowledgeBase
) -> list[Hit]:
    """Every hit of `rules` (those `rules_for` chose for the bill) on the bill, in order."""
    hits: list[Hit] = []
    charged = tuple(ln for ln in bill.lines if ln.amount > 0 and ln.cnt > 0)
    earlier = tuple(ln for ln in bill.visit_lines if ln.amount > 0 and ln.cnt > 0)
    visit_charged = earlier + charged
    day = bill.day
    # most bills bill no restricted term: the catalog-limit rules then have nothing to look at
    # (`service.limits_of` gives an unrestricted term `NO_LIMITS` itself; an equal copy only
    # costs the rule's run)
    restricted = any(ln.limits is not NO_LIMITS for ln in charged)
    for rule in rules:
        entry = LOGICS[rule.category]
        if entry.restricted_lines_only and not restricted:
            continue
        facts = Facts(
            bill=bill,
            history=history,
            kb=kb,
            params=rule.params,
            day=day,
            charged=charged,
            visit_charged=visit_charged,
        )
        for found in entry.logic(facts):
            hits.append(
                Hit(
                    rule_id=rule.rule_id,
                    rule_version=rule.version,
                    category=rule.category,
                    name=rule.name,
                    stage=stage,
                    result_type=rule.result_type,
                    action=rule.action,
                    reason=found.reason,
                    line_ids=found.line_ids,
                    threshold=found.threshold or rule.threshold,
                    value=found.value,
                    amount=found.amount,
                    evidence=found.evidence,
                )
            )
    return hits
