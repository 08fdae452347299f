"""The post-hoc pass (`yibao.monitoring.runner.run`, every detector) on a synthetic replica of N
settlements, timed per detector: over the whole year (a first, full run) and over one day (the
nightly incremental run).

After the detectors it re-runs the real-time line rules over the settled bills
(`review.post_replay`, step `rules_rerun`) against a bench catalog that restricts one drug in
five of the synthetic city's (`RESTRICTED_DRUGS`), the restrictions mostly respected.

The replica is the one `yibao.bench.replica_scale` builds (the bulk loader's own path; one
year of a city of N/12 persons and 1,500 institutions, its settled fee lines — about eight a
settlement — and its persons, a few with a date of death), so a file built for the analytics
benchmark can be reused:

    .venv/bin/python -m yibao.bench.posthoc_scale --settlements 1000000 --path /tmp/yb1m.duckdb
    .venv/bin/python -m yibao.bench.posthoc_scale --path /tmp/yb1m.duckdb --reuse

It reads one snapshot through the store, as `yibao risk run` does, and stores nothing (the
row-store write of the hits is measured by the demo-city run, docs/monitoring.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from yibao.bench.replica_scale import (
    BED_CODES,
    NURSING_CODES,
    ROUND_CODE,
    YEAR,
    YEARLY_CODE,
    build,
)
from yibao.catalog.model import CatalogItem, Restrictions
from yibao.monitoring import runner
from yibao.monitoring.peers import LEVELS
from yibao.monitoring.plan import plan
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.store import ReplicaStore, count_rows
from yibao.review import post_replay
from yibao.risk.kb import FrequencyLimit, KnowledgeBase
from yibao.risk.params_io import load_ruleset

#: the synthetic city's drugs (`replica_scale`: D000 … D049) the bench catalog restricts, one
#: in five, as settled bills mostly respect them (the counter's review made most breaches
#: self-pay): adults and children from one year (ages are 0 … 89: ~1 % break it), indications
#: covering 97 % of the synthetic diagnoses (D0000 … D1999), at most 28 days (only a
#: pharmacy's longest supplies, 29 and 30 days, break it)
_INDICATIONS = ("D0", *(f"D1{d}" for d in range(9)), "D190", "D191", "D192", "D193")
RESTRICTED_DRUGS: dict[str, Restrictions] = {
    **{f"D{i:03d}": Restrictions(age_min=1) for i in (0, 1, 2)},
    **{f"D{i:03d}": Restrictions(diag_codes=_INDICATIONS) for i in (3, 4, 5, 6)},
    **{f"D{i:03d}": Restrictions(max_days=Decimal(28)) for i in (7, 8, 9)},
}


class BenchCatalog:
    """The catalog the synthetic replica is made against, for the re-run of the real-time
    rules (`review.post_replay.Catalog`): the restricted drugs above, every other code a
    plain catalog item."""

    def restricted_items(self, since: date, until: date) -> list[CatalogItem]:
        del since, until
        return [_item(code) for code in sorted(RESTRICTED_DRUGS)]

    def terms_at(self, codes: Iterable[str], day: date) -> Mapping[str, CatalogItem]:
        del day
        return {code: _item(code) for code in codes if code in RESTRICTED_DRUGS}


def _item(code: str) -> CatalogItem:
    return CatalogItem(
        hilist_code=code,
        hilist_name=f"合成药品{code}",
        list_type="101",
        chrgitm_lv="02",
        selfpay_prop=Decimal("0.1"),
        begndate=date(2000, 1, 1),
        med_chrgitm_type="09",
        restrictions=RESTRICTED_DRUGS[code],
    )


def _pass(
    store: ReplicaStore, since: date, until: date, peer_levels: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """One pass as `yibao risk run` makes it on one snapshot, timed per step: the detectors,
    then the re-run of the real-time rules."""
    ruleset = load_ruleset()
    kb = bench_kb(until)
    p = plan(ruleset, kb, until)
    if peer_levels is not None:  # every peer level, whatever the rule base enables
        extra = {lv.rule_id: ruleset.by_id(lv.rule_id) for lv in LEVELS}
        p = dataclasses.replace(
            p,
            thresholds=dataclasses.replace(p.thresholds, peer_levels=peer_levels),
            rules={**p.rules, **{k: r for k, r in extra.items() if r is not None}},
        )
    per: dict[str, float] = {}
    found: dict[str, int] = {}
    started = time.perf_counter()
    with store.snapshot() as (cur, _seq):
        for step in runner.STEPS:
            rule_ids = frozenset(step.rules) & p.rule_ids
            if not rule_ids:
                continue
            t0 = time.perf_counter()
            hits = runner.run(cur, since, until, p.thresholds, rule_ids=rule_ids)
            per[step.name] = round(time.perf_counter() - t0, 2)
            for h in hits:
                found[h.category] = found.get(h.category, 0) + 1
        t0 = time.perf_counter()
        hits = post_replay.rerun(BenchCatalog(), cur, since, until, ruleset, kb)
        per["rules_rerun"] = round(time.perf_counter() - t0, 2)
        for h in hits:
            found[h.category] = found.get(h.category, 0) + 1
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "seconds": round(time.perf_counter() - started, 2),
        "per_detector_s": per,
        "hits": dict(sorted(found.items())),
    }


def bench_kb(day: date) -> KnowledgeBase:
    """The knowledge the synthetic replica is made against: its daily items (bed, nursing,
    the ward round) limited to once a day, one item to 12 a year (`replica_scale`)."""
    del day
    begin = date(2000, 1, 1)
    daily = (*BED_CODES, *NURSING_CODES, ROUND_CODE)
    return KnowledgeBase(
        frequency_limits=(
            *(FrequencyLimit(begin, None, code, Decimal(1), None, None) for code in daily),
            FrequencyLimit(begin, None, YEARLY_CODE, None, None, Decimal(12)),
        )
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--path", type=Path, default=Path("/tmp/yb_posthoc_scale.duckdb"))
    ap.add_argument("--settlements", type=int, default=1_000_000)
    ap.add_argument("--reuse", action="store_true", help="time the existing file, do not build")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--day", default=f"{YEAR}-06-15", help="the incremental day (yyyy-MM-dd)")
    ap.add_argument("--no-year", action="store_true", help="time the incremental day only")
    ap.add_argument(
        "--all-peers",
        action="store_true",
        help="compare departments and doctors with their peers even where the rule base turns them off (packaged on)",
    )
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"threads": args.threads, "memory_limit": args.memory_limit}
    if not args.reuse:
        out["build"] = build(
            args.path, args.settlements, threads=args.threads, memory_limit=args.memory_limit
        )
    store = ReplicaStore(
        args.path,
        threads=args.threads,
        memory_limit=args.memory_limit,
        pseudonyms=Pseudonyms.ephemeral(),
    )
    try:
        out["settlements"] = count_rows(store.cursor(), "setl_fact")
        day = date.fromisoformat(args.day)
        levels = tuple(lv.name for lv in LEVELS) if args.all_peers else None
        out["day"] = _pass(store, day, day, levels)
        if not args.no_year:
            out["year"] = _pass(store, date(YEAR, 1, 1), date(YEAR, 12, 31), levels)
    finally:
        store.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
