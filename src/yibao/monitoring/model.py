"""What a post-hoc detector finds, and the thresholds it uses."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import orjson


@dataclass(frozen=True)
class Thresholds:
    """The knowledge base's windows (`windows` table) and the model parameters of the
    post-hoc rules; defaults are the demo region's (docs/monitoring.md)."""

    #: 分解住院: readmission within this many days of discharge, same diagnosis group
    readmission_days: int = 15
    #: 频繁就诊: this many outpatient visits within `frequent_days` days
    frequent_days: int = 30
    frequent_visits: int = 8
    #: 一卡两地: two institutions within this many minutes on one day
    same_place_minutes: int = 60
    #: 住院天数异常: a stay longer than this many times the diagnosis group's typical longest
    #: stay (its 95th percentile)
    los_ratio: float = 2.0
    #: peer outliers: robust z-score (median/MAD) beyond this on a metric, and at least
    #: `min_ratio` times the peers' median
    robust_z: float = 6.0
    min_ratio: float = 1.5
    #: … and a share metric (drug, exam, consumable) this much above the peers' median
    min_share_gap: float = 0.05
    #: peers needed for a peer comparison to mean anything
    min_peers: int = 5
    #: who is compared with peers (`peers.LEVELS`): institution, department, doctor — the
    #: levels whose rule is enabled (`plan`)
    peer_levels: tuple[str, ...] = ("institution",)
    #: visits an institution needs in the period to be compared
    min_visits: int = 30
    #: peer metrics count a bill above this quantile of its peer group's bills at that
    #: quantile (winsorised: a few extreme bills are the line rules' to judge, not a shift
    #: of the institution's work); 1.0 counts every bill as billed
    winsor: float = 0.995
    #: a department's or doctor's costliest visits (over what their case costs) left out of
    #: its indices (`peer_metrics.adjusted_levels`)
    drop_costliest: int = 2
    #: Benford: bills an institution needs, and the mean absolute deviation of first-digit
    #: shares above which its totals do not conform (Nigrini: 0.015 for first digits)
    benford_min_bills: int = 200
    benford_mad: float = 0.015
    #: Benford: how far (robust z) above its peers' deviations an institution's must lie
    benford_z: float = 3.5
    #: 聚集性就诊: persons co-visiting one institution on at least this many days form a
    #: group of at least `group_min_size`
    group_min_days: int = 3
    group_min_size: int = 4
    #: 低标准入院: a stay of at most this many days costing below this share of its
    #: diagnosis group's median
    low_stay_days: int = 3
    low_cost_share: float = 0.35
    #: 低标准入院: main diagnoses (ICD-10 prefixes) normally treated as outpatients
    outpatient_diagnoses: tuple[str, ...] = ()
    #: 挂床住院: this many consecutive days of a stay with only bed and nursing lines
    bed_only_days: int = 3
    #: 重复开药: days of an earlier supply that may remain when the drug is dispensed again
    #: (the knowledge base's `holding` window), and the days a line without `prd_days` covers
    holding_grace_days: int = 3
    holding_default_days: int = 7
    #: 频次/数量超限: the knowledge base's frequency limits valid on the run's last day,
    #: (hilist_code, per day, per admission, per year); None where the row sets none
    frequency_limits: tuple[tuple[str, Decimal | None, Decimal | None, Decimal | None], ...] = ()


@dataclass(frozen=True)
class PostHit:
    """One post-hoc finding. `key` identifies what was found (the settlement, the person and
    window, the institution and period, the group) so that a rerun finds the same hit again
    and stores nothing twice."""

    category: str
    rule_id: str
    unit: str
    key: str
    amount_fen: int
    evidence: dict[str, Any] = field(default_factory=dict)
    psn_ref: str | None = None
    fixmedins_code: str | None = None
    mdtrt_id: str | None = None
    setl_id: str | None = None
    #: the fee line a line-unit hit names (rule_hit.line_ids)
    feedetl_sn: str | None = None
    day: date | None = None
    result_type: str = "suspicious"

    @property
    def hit_id(self) -> str:
        """Deterministic: the same finding always has the same id."""
        digest = hashlib.sha256(f"{self.rule_id}|{self.key}".encode()).hexdigest()
        return "RH" + digest[:28]

    def evidence_json(self) -> str:
        return orjson.dumps(self.evidence, option=orjson.OPT_SORT_KEYS).decode()


def settlement_hit(
    r: Mapping[str, Any],
    *,
    category: str,
    rule_id: str,
    amount_fen: int,
    evidence: dict[str, Any],
    result_type: str = "suspicious",
) -> PostHit:
    """A visit-unit hit on one settlement row of a detector's query (its `setl_id`,
    `mdtrt_id`, `psn`, `fixmedins_code` and `setl_date`)."""
    return PostHit(
        category=category,
        rule_id=rule_id,
        unit="visit",
        key=str(r["setl_id"]),
        amount_fen=amount_fen,
        psn_ref=r["psn"],
        fixmedins_code=r["fixmedins_code"],
        mdtrt_id=r["mdtrt_id"],
        setl_id=r["setl_id"],
        day=r["setl_date"],
        result_type=result_type,
        evidence=evidence,
    )


def line_hit(
    r: Mapping[str, Any],
    *,
    category: str,
    rule_id: str,
    evidence: dict[str, Any],
    result_type: str = "suspicious",
) -> PostHit:
    """A line-unit hit on one `fee_fact` row (a settlement row's columns plus its
    `feedetl_sn` and the line's `amount_fen`)."""
    return PostHit(
        category=category,
        rule_id=rule_id,
        unit="line",
        key=f"{r['setl_id']}|{r['feedetl_sn']}",
        amount_fen=int(r["amount_fen"]),
        psn_ref=r["psn"],
        fixmedins_code=r["fixmedins_code"],
        mdtrt_id=r["mdtrt_id"],
        setl_id=r["setl_id"],
        feedetl_sn=str(r["feedetl_sn"]),
        day=r["setl_date"],
        result_type=result_type,
        evidence=evidence,
    )
