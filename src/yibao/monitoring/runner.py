"""One post-hoc pass over a period: every detector, in a fixed order, on one snapshot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb

from yibao.errors import InvalidInput
from yibao.monitoring import groups, peers, windows
from yibao.monitoring.model import PostHit, Thresholds

Detector = Callable[[duckdb.DuckDBPyConnection, date, date, Thresholds], list[PostHit]]

#: category → the detector that finds it (several categories may share one)
DETECTORS: dict[str, Detector] = {
    "split_admission": windows.split_admission,
    "same_day_multi_visit": windows.same_day_visits,  # also card_misuse (two places at once)
    "frequent_visits": windows.frequent_visits,
    "outpatient_during_stay": windows.outpatient_during_stay,
    "peer_outlier": peers.peer_outliers,
    "benford": peers.benford_outliers,
    "clustered_visits": groups.clustered_visits,
}
#: the categories this module can find (the stay outliers take the knowledge base's list)
CATEGORIES: tuple[str, ...] = (
    *DETECTORS,
    "card_misuse",
    "los_outlier",
    "low_threshold_admission",
)


def check_period(since: date, until: date) -> None:
    if since > until:
        raise InvalidInput(
            f"since/until: 起始日期晚于结束日期 ({since} > {until}; the range is backwards)"
        )


def run(
    cur: duckdb.DuckDBPyConnection,
    since: date,
    until: date,
    thresholds: Thresholds | None = None,
    *,
    outpatient_diagnoses: tuple[str, ...] = (),
    categories: frozenset[str] | None = None,
    progress: Callable[[str], None] = lambda _c: None,
) -> list[PostHit]:
    """Every post-hoc hit whose anchor lies in [since, until], read through `cur` (one
    snapshot of the replica). `categories` limits the run (None: all)."""
    check_period(since, until)
    t = thresholds or Thresholds()
    hits: list[PostHit] = []
    for category, detector in DETECTORS.items():
        if (
            categories is not None
            and category not in categories
            and not (category == "same_day_multi_visit" and "card_misuse" in categories)
        ):
            continue
        progress(category)
        hits.extend(detector(cur, since, until, t))
    if categories is None or categories & {"los_outlier", "low_threshold_admission"}:
        progress("los_outlier")
        hits.extend(windows.stay_outliers(cur, since, until, t, outpatient_diagnoses))
    if categories is not None:
        hits = [h for h in hits if h.category in categories]
    return hits
