"""The region's rule for fee lines without an approved mapping (pure)."""

from __future__ import annotations

from yibao.catalog.mapping import MappingRule, MappingState, judge
from yibao.codes.dicts import CatalogMissRule


def test_demo_region_requires_no_mapping() -> None:
    rule = MappingRule()
    for state in MappingState:
        assert judge(state, rule, medins_list_codg="L1", hilist_code="H1").action == "ok"


def test_required_mapping_refused_or_self_paid() -> None:
    refuse = MappingRule(require_approved=True, on_unmapped=CatalogMissRule.REFUSE)
    self_pay = MappingRule(require_approved=True, on_unmapped=CatalogMissRule.SELF_PAY)
    assert (
        judge(MappingState.APPROVED, refuse, medins_list_codg="L1", hilist_code="H1").action == "ok"
    )
    for state in (MappingState.NONE, MappingState.PENDING, MappingState.MISMATCH):
        refused = judge(state, refuse, medins_list_codg="L1", hilist_code="H1")
        assert refused.action == "refuse"
        assert (
            refused.reason is not None and "L1" in refused.reason and "拒绝结算" in refused.reason
        )
        paid = judge(state, self_pay, medins_list_codg="L1", hilist_code="H1")
        assert paid.action == "self_pay" and paid.reason is not None and "全额自费" in paid.reason
