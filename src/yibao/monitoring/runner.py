"""One post-hoc pass over a period: every detector, in a fixed order, on one snapshot."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import duckdb

from yibao.errors import InvalidInput
from yibao.monitoring import groups, lines, peers, windows
from yibao.monitoring.model import PostHit, Thresholds

Detector = Callable[[duckdb.DuckDBPyConnection, date, date, Thresholds], list[PostHit]]


@dataclass(frozen=True)
class Step:
    """One detector and the post rules whose hits it makes (rule id → category)."""

    name: str
    rules: Mapping[str, str]
    detector: Detector

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(self.rules.values())


#: every detector, in the order a pass runs them
STEPS: tuple[Step, ...] = (
    Step("split_admission", {"POST-SPLIT-ADMISSION": "split_admission"}, windows.split_admission),
    # one card, two places at once is a same-day visit too: one detector finds both
    Step(
        "same_day_multi_visit",
        {"POST-SAME-DAY": "same_day_multi_visit", "POST-TWO-PLACES": "card_misuse"},
        windows.same_day_visits,
    ),
    Step("after_death", {"POST-AFTER-DEATH": "card_misuse"}, windows.after_death),
    Step("frequent_visits", {"POST-FREQUENT-VISITS": "frequent_visits"}, windows.frequent_visits),
    Step(
        "outpatient_during_stay",
        {"POST-OTP-DURING-STAY": "outpatient_during_stay"},
        windows.outpatient_during_stay,
    ),
    Step(
        "stay_outliers",
        {"POST-LOS-OUTLIER": "los_outlier", "POST-LOW-THRESHOLD": "low_threshold_admission"},
        windows.stay_outliers,
    ),
    Step("bed_hogging", {"POST-BED-HOGGING": "bed_hogging"}, lines.bed_hogging),
    Step("fabricated_service", {"POST-FABRICATED": "fabricated_service"}, lines.fabricated_service),
    Step("frequency_limit", {"POST-FREQUENCY": "frequency_limit"}, lines.frequency_limit),
    Step(
        "repeat_prescription",
        {"POST-REPEAT-RX": "repeat_prescription"},
        lines.repeat_prescription,
    ),
    Step(
        "peer_outlier",
        {
            "POST-PEER-OUTLIER": "peer_outlier",
            "POST-PEER-DEPARTMENT": "peer_outlier",
            "POST-PEER-DOCTOR": "peer_outlier",
        },
        peers.peer_outliers,
    ),
    Step("benford", {"POST-BENFORD": "benford"}, peers.benford_outliers),
    Step(
        "clustered_visits", {"POST-CLUSTERED-VISITS": "clustered_visits"}, groups.clustered_visits
    ),
)
#: rule id → category of every post rule a detector writes
POST_RULES: Mapping[str, str] = {r: c for step in STEPS for r, c in step.rules.items()}
#: the categories this module can find, in the order of their first step
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(POST_RULES.values()))


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
    outpatient_diagnoses: tuple[str, ...] | None = None,
    categories: frozenset[str] | None = None,
    rule_ids: frozenset[str] | None = None,
    progress: Callable[[str], None] = lambda _c: None,
) -> list[PostHit]:
    """Every post-hoc hit whose anchor lies in [since, until], read through `cur` (one
    snapshot of the replica). `categories` limits the run (None: all), `rule_ids` to the
    rules enabled (None: all); `outpatient_diagnoses` replaces the thresholds' list."""
    check_period(since, until)
    t = thresholds or Thresholds()
    if outpatient_diagnoses is not None:
        t = dataclasses.replace(t, outpatient_diagnoses=tuple(outpatient_diagnoses))
    hits: list[PostHit] = []
    for step in STEPS:
        wanted = {
            r
            for r, c in step.rules.items()
            if (categories is None or c in categories) and (rule_ids is None or r in rule_ids)
        }
        if not wanted:
            continue
        progress(step.name)
        hits.extend(h for h in step.detector(cur, since, until, t) if h.rule_id in wanted)
    return hits
