"""The replica read that narrows the post stage's re-run to the lines worth a look keeps every
line the rules find, and every line that clears one: over a synthetic year whose catalog
restricts drugs in every way the catalog can (sex, age bands, children's drugs, levels, visit
types, indications, days, quantity), most of them broken often, and whose knowledge base makes
bundles of its labs (the bundle's own code billed beside its parts clears them) and mutually
exclusive pairs, the narrowed re-run finds exactly what the re-run over every settled line
finds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

from yibao.bench.replica_scale import YEAR, build
from yibao.catalog.model import CatalogItem, Restrictions
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.store import ReplicaStore
from yibao.review import post_replay
from yibao.risk.kb import BundlePart, ItemPair, KnowledgeBase
from yibao.risk.params_io import load_ruleset

#: the synthetic drugs D000 … D049 (yibao.bench.replica_scale) and what restricts them; the
#: synthetic diagnoses are D0000 … D1999, ages 0 … 89, levels 1 … 3, drugs' days 7 … 30
RESTRICTED: Mapping[str, tuple[Restrictions, str]] = {
    "D000": (Restrictions(gend="2"), "0"),
    "D001": (Restrictions(gend="1"), "0"),
    "D002": (Restrictions(age_min=30), "0"),
    "D003": (Restrictions(age_max=60), "0"),
    "D004": (Restrictions(age_max=14), "0"),
    "D005": (Restrictions(), "1"),  # a children's drug (chld_medc_flag)
    "D006": (Restrictions(hosp_lv=frozenset({"3"})), "0"),
    "D007": (Restrictions(med_type=frozenset({"otp"})), "0"),
    "D008": (Restrictions(med_type=frozenset({"ipt", "41"})), "0"),
    "D009": (Restrictions(diag_codes=("D0",)), "0"),
    "D010": (Restrictions(diag_codes=("d19", "D05")), "0"),
    "D011": (Restrictions(max_days=Decimal(10)), "0"),
    "D012": (Restrictions(max_cnt=Decimal("0.5")), "0"),
}


class WideCatalog:
    def restricted_items(self, since: date, until: date) -> list[CatalogItem]:
        return [_item(c) for c in sorted(RESTRICTED)]

    def terms_at(self, codes: Iterable[str], day: date) -> Mapping[str, CatalogItem]:
        return {c: _item(c) for c in codes if c in RESTRICTED}


def _item(code: str) -> CatalogItem:
    restrictions, child = RESTRICTED[code]
    return CatalogItem(
        hilist_code=code,
        hilist_name=f"药品{code}",
        list_type="101",
        chrgitm_lv="02",
        selfpay_prop=Decimal("0.1"),
        begndate=date(2000, 1, 1),
        med_chrgitm_type="09",
        chld_medc_flag=child,
        restrictions=restrictions,
    )


#: the synthetic outpatient bill's k-th line is a lab `L<k>` unless k is 0 or one more than a
#: multiple of 3 (replica_scale): a bill of 7 or 8 lines bills L5 and L6 apart (a split), one
#: of 9 lines or more bills the bundle L8 beside them (no split); L3 and L9 exclude each other
KB = KnowledgeBase(
    bundles=tuple(
        BundlePart(date(2000, 1, 1), None, "L8", "生化组合", code, min_parts=2)
        for code in ("L5", "L6")
    ),
    item_pairs=(ItemPair(date(2000, 1, 1), None, "L3", "L9", "excludes"),),
)


def test_the_narrowed_read_keeps_every_line_the_rules_find(tmp_path: Path) -> None:
    path = tmp_path / "year.duckdb"
    build(path, 24_000, threads=1, memory_limit="512MB")
    store = ReplicaStore(path, threads=1, memory_limit="512MB", pseudonyms=Pseudonyms.ephemeral())
    rules = load_ruleset()
    since, until = date(YEAR, 1, 1), date(YEAR, 12, 31)
    try:
        with store.snapshot() as (cur, _seq):
            narrowed = post_replay.rerun(WideCatalog(), cur, since, until, rules, KB)
            every = post_replay.rerun(WideCatalog(), cur, since, until, rules, KB, narrow=False)
    finally:
        store.close()
    assert {h.hit_id for h in narrowed} == {h.hit_id for h in every}
    # nothing here was made self-pay at settlement: every hit puts its line's amount at stake
    assert all(h.amount_fen > 0 and not h.evidence["forced_selfpay"] for h in every)
    found = Counter(h.category for h in every)
    for category in (
        "gender_limit",
        "age_limit",
        "child_only",
        "hosp_lv_limit",
        "med_type_limit",
        "indication_limit",
        "over_quantity",
        "split_charge",
        "duplicate_charge",
    ):
        assert found[category] > 20, (category, found)
