"""The post-hoc pass (`yibao.monitoring.runner.run`, every category) on a synthetic replica of N
settlements, timed per category: over the whole year (a first, full run) and over one day (the
nightly incremental run).

The replica is the one `yibao.bench.replica_scale` builds (the bulk loader's own path; one
year of a city of N/12 persons and 1,500 institutions), so a file built for the analytics
benchmark can be reused:

    .venv/bin/python -m yibao.bench.posthoc_scale --settlements 1000000 --path /tmp/yb1m.duckdb
    .venv/bin/python -m yibao.bench.posthoc_scale --path /tmp/yb1m.duckdb --reuse

It reads one snapshot through the store, as `yibao risk run` does, and stores nothing (the
row-store write of the hits is measured by the demo-city run, docs/monitoring.md).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

from yibao.bench.replica_scale import YEAR, build
from yibao.monitoring import runner
from yibao.monitoring.plan import plan
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.store import ReplicaStore, count_rows
from yibao.risk.kb import EMPTY_KB
from yibao.risk.params_io import load_ruleset


def _pass(store: ReplicaStore, since: date, until: date) -> dict[str, Any]:
    p = plan(load_ruleset(), EMPTY_KB, until)
    per: dict[str, float] = {}
    found: dict[str, int] = {}
    started = time.perf_counter()
    with store.snapshot() as (cur, _seq):
        for category in runner.DETECTORS:
            if category not in p.categories:
                continue
            t0 = time.perf_counter()
            hits = runner.run(
                cur,
                since,
                until,
                p.thresholds,
                outpatient_diagnoses=p.outpatient_diagnoses,
                categories=frozenset(
                    {category} | ({"card_misuse"} if category == "same_day_multi_visit" else set())
                ),
            )
            per[category] = round(time.perf_counter() - t0, 2)
            for h in hits:
                found[h.category] = found.get(h.category, 0) + 1
        t0 = time.perf_counter()
        hits = runner.run(
            cur,
            since,
            until,
            p.thresholds,
            outpatient_diagnoses=p.outpatient_diagnoses,
            categories=frozenset({"los_outlier", "low_threshold_admission"}),
        )
        per["los_outlier+low_threshold_admission"] = round(time.perf_counter() - t0, 2)
        for h in hits:
            found[h.category] = found.get(h.category, 0) + 1
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "seconds": round(time.perf_counter() - started, 2),
        "per_category_s": per,
        "hits": dict(sorted(found.items())),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--path", type=Path, default=Path("/tmp/yb_posthoc_scale.duckdb"))
    ap.add_argument("--settlements", type=int, default=1_000_000)
    ap.add_argument("--reuse", action="store_true", help="time the existing file, do not build")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--day", default=f"{YEAR}-06-15", help="the incremental day (yyyy-MM-dd)")
    ap.add_argument("--no-year", action="store_true", help="time the incremental day only")
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
        out["day"] = _pass(store, day, day)
        if not args.no_year:
            out["year"] = _pass(store, date(YEAR, 1, 1), date(YEAR, 12, 31))
    finally:
        store.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
