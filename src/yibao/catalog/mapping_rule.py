"""The region's rule on 目录对照 and the states a fee line's (local code, national code) pair can be
in. Pure: the settlement service applies `judge` to the states `catalog.mapping` reads."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from yibao.codes.dicts import CatalogMissRule


class MappingState(StrEnum):
    """What the mappings say of a fee line's (local code, national code) pair."""

    #: an approved mapping of the local code to this national code, valid on the day
    APPROVED = "approved"
    #: the local code is approved, but to another national code
    MISMATCH = "mismatch"
    #: only a submitted (not yet reviewed) mapping
    PENDING = "pending"
    #: no submitted or approved mapping
    NONE = "none"


# --------------------------------------------------------------------------- the region's rule


@dataclass(frozen=True, slots=True)
class MappingRule:
    """A region's rule for fee lines and mappings (a policy parameter of the region).

    `require_approved`: a fee line's local code must have an approved mapping to the line's
    national code. `on_unmapped`: what happens to a line that lacks one — refused (the whole
    upload answers infcode -1 with the reason) or fully self-paid. The demo region requires
    no mapping: the national code on the fee line governs.
    """

    require_approved: bool = False
    on_unmapped: CatalogMissRule = CatalogMissRule.SELF_PAY


@dataclass(frozen=True, slots=True)
class Judgement:
    """`action`: "ok" (settle by the catalog), "refuse" or "self_pay"; `reason` otherwise."""

    action: str
    reason: str | None = None


def judge(
    state: MappingState, rule: MappingRule, *, medins_list_codg: str, hilist_code: str
) -> Judgement:
    """Apply `rule` to a fee line whose pair is in `state` (pure)."""
    if not rule.require_approved or state is MappingState.APPROVED:
        return Judgement("ok")
    why = {
        MappingState.MISMATCH: "已审核的对照指向其他国家编码 (approved to another national code)",
        MappingState.PENDING: "对照尚未审核通过 (the mapping is not yet approved)",
        MappingState.NONE: "没有对照 (no mapping)",
    }[state]
    if rule.on_unmapped is CatalogMissRule.REFUSE:
        return Judgement(
            "refuse",
            f"本机构目录编码 {medins_list_codg} 与医保目录编码 {hilist_code} 无审核通过的对照, "
            f"本区拒绝结算: {why} (no approved mapping; this region refuses such lines)",
        )
    return Judgement(
        "self_pay",
        f"本机构目录编码 {medins_list_codg} 与医保目录编码 {hilist_code} 无审核通过的对照, "
        f"全额自费: {why} (no approved mapping: fully self-paid)",
    )
