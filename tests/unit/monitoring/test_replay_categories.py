"""Which categories the post stage re-runs with the real-time logic: every fee-line category
that names the post stage is found at night by exactly one means — a post-hoc detector or the
re-run of its real-time rule — except item_substitution, which needs the stock at the moment
of the sale."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from yibao.monitoring.plan import CATEGORIES, check_categories
from yibao.monitoring.replay import REPLAYED
from yibao.monitoring.runner import CATEGORIES as DETECTED
from yibao.risk.kb import BundlePart, ConsumableLink, DrugLimit, ItemPair, KnowledgeBase, PriceLimit
from yibao.risk.registry import CATEGORIES as ALL


def test_every_line_category_at_the_post_stage_has_one_way_to_be_found() -> None:
    line_post = {k for k, c in ALL.items() if c.unit == "line" and "post" in c.stages}
    assert set(REPLAYED) <= line_post
    assert not set(REPLAYED) & set(DETECTED)
    assert line_post - set(REPLAYED) - set(DETECTED) == {"item_substitution"}


def test_a_post_hoc_pass_accepts_the_re_run_categories() -> None:
    assert set(CATEGORIES) == set(DETECTED) | set(REPLAYED)
    assert check_categories(["gender_limit,benford"]) == {"gender_limit", "benford"}


def test_the_knowledge_base_names_the_codes_its_line_rules_look_up() -> None:
    d = date(2024, 1, 1)
    kb = KnowledgeBase(
        item_pairs=(ItemPair(d, None, "A", "B", "includes"),),
        bundles=(BundlePart(d, None, "BUNDLE", "包", "P1"),),
        price_limits=(PriceLimit(d, None, "PR", "3", Decimal(1)),),
        drug_limits=(DrugLimit(d, None, "DR", Decimal(7), None),),
        consumable_links=(ConsumableLink(d, None, "CON", "PROC"),),
    )
    assert kb.line_codes() == {"A", "B", "BUNDLE", "P1", "PR", "DR", "CON", "PROC"}
