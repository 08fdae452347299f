"""What a post-hoc pass runs: the rule base's post rules (one per category, by the rule id the
detector writes) and their thresholds, the knowledge base's `windows` rows winning — the one
place thresholds come from (docs/monitoring.md). Pure: plain data in, plain data out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from yibao.errors import InvalidInput
from yibao.monitoring.model import Thresholds
from yibao.monitoring.peers import LEVELS
from yibao.monitoring.replay import REPLAYED
from yibao.monitoring.runner import CATEGORIES as DETECTED
from yibao.monitoring.runner import POST_RULES
from yibao.risk.kb import KnowledgeBase
from yibao.risk.params_io import Rule, RuleSet
from yibao.risk.registry import CATEGORIES as ALL_CATEGORIES
from yibao.risk.registry import ParamValue

#: rule id → category of every post rule (the ids the detectors write into rule_hit.rule_id)
RULE_IDS: Mapping[str, str] = POST_RULES
#: every category a post-hoc pass can find: the detectors' and the re-run real-time rules'
CATEGORIES: tuple[str, ...] = (*DETECTED, *(c for c in REPLAYED if c not in DETECTED))


@dataclass(frozen=True)
class Plan:
    """The categories to run (one of their rules enabled and valid), the thresholds, the
    rules to run by id."""

    categories: frozenset[str]
    thresholds: Thresholds
    outpatient_diagnoses: tuple[str, ...]
    rules: Mapping[str, Rule]

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(self.rules)


def check_categories(names: Iterable[str]) -> frozenset[str]:
    """The asked categories, each one a post-hoc category, or InvalidInput naming the field."""
    out: set[str] = set()
    for raw in names:
        for name in (n.strip() for n in raw.split(",")):
            if not name:
                continue
            if name not in ALL_CATEGORIES:
                raise InvalidInput(
                    f"category: 未知的类别 '{name}' (unknown category; post-hoc categories: "
                    f"{', '.join(CATEGORIES)})"
                )
            if name not in CATEGORIES:
                raise InvalidInput(
                    f"category: 类别 '{name}' 不在事后检测之列 (no post-hoc detector or re-run for this "
                    f"category; post-hoc categories: {', '.join(CATEGORIES)})"
                )
            out.add(name)
    return frozenset(out)


def _int(params: Mapping[str, ParamValue], key: str, default: int) -> int:
    value = params.get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _num(params: Mapping[str, ParamValue], key: str, default: float) -> float:
    value = params.get(key)
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return float(value)
    return default


def _in_range(key: str, value: float, low: float, high: float, meaning: str) -> None:
    """A `POST-PEER-OUTLIER` parameter outside [low, high] is refused naming it."""
    if not low <= value <= high:
        raise InvalidInput(
            f"POST-PEER-OUTLIER.{key}: 应在 {low:g}–{high:g} 之间 ({meaning}, {low:g} to "
            f"{high:g}): {value}"
        )


def plan(
    ruleset: RuleSet,
    kb: KnowledgeBase,
    day: date,
    wanted: frozenset[str] | None = None,
) -> Plan:
    """The pass over a period ending on `day`: a post rule runs when it exists, is enabled
    and valid on `day` (and, if `wanted` is given, its category is asked for); a category
    runs when one of its rules does."""
    rules: dict[str, Rule] = {}
    for rule_id, category in RULE_IDS.items():
        rule = ruleset.by_id(rule_id)
        if rule is None or not rule.enabled or "post" not in rule.stages or not rule.valid_on(day):
            continue
        if wanted is not None and category not in wanted:
            continue
        rules[rule_id] = rule
    d = Thresholds()

    def params(rule_id: str) -> Mapping[str, ParamValue]:
        found = rules.get(rule_id) or ruleset.by_id(rule_id)
        return found.params if found is not None else {}

    readmit = params("POST-SPLIT-ADMISSION")
    freq = params("POST-FREQUENT-VISITS")
    place = params("POST-TWO-PLACES")
    los = params("POST-LOS-OUTLIER")
    low = params("POST-LOW-THRESHOLD")
    peer = params("POST-PEER-OUTLIER")
    benford = params("POST-BENFORD")
    group = params("POST-CLUSTERED-VISITS")
    bed = params("POST-BED-HOGGING")
    hold = params("POST-REPEAT-RX")
    frequent_count = kb.window_threshold("frequent_visits", day)
    same_place = kb.window_threshold("same_place", day)
    los_ratio = kb.window_threshold("los_outlier", day)
    raw = low.get("outpatient_diagnoses", ())
    diagnoses = tuple(raw) if isinstance(raw, tuple) else ()
    winsor = _num(peer, "winsor", d.winsor)
    _in_range("winsor", winsor, 0.5, 1, "a quantile; 1 counts every bill as billed")
    drop_costliest = _int(peer, "drop_costliest", d.drop_costliest)
    _in_range("drop_costliest", drop_costliest, 0, 10, "cases left out of a department's indices")
    t = Thresholds(
        readmission_days=kb.window("readmission", day, _int(readmit, "days", d.readmission_days)),
        frequent_days=kb.window("frequent_visits", day, _int(freq, "window_days", d.frequent_days)),
        # the rule's max_visits are allowed; one more is frequent (the windows row names the
        # count that is frequent)
        frequent_visits=(
            int(frequent_count)
            if frequent_count is not None
            else _int(freq, "max_visits", d.frequent_visits - 1) + 1
        ),
        same_place_minutes=(
            int(same_place)
            if same_place is not None
            else _int(place, "same_place_minutes", d.same_place_minutes)
        ),
        los_ratio=float(los_ratio) if los_ratio is not None else _num(los, "ratio", d.los_ratio),
        robust_z=_num(peer, "robust_z", d.robust_z),
        min_ratio=_num(peer, "min_ratio", d.min_ratio),
        min_share_gap=_num(peer, "min_share_gap", d.min_share_gap),
        min_peers=_int(peer, "min_peers", _int(los, "min_peers", d.min_peers)),
        min_visits=_int(peer, "min_visits", d.min_visits),
        winsor=winsor,
        drop_costliest=drop_costliest,
        peer_levels=tuple(level.name for level in LEVELS if level.rule_id in rules),
        benford_min_bills=_int(benford, "min_bills", d.benford_min_bills),
        benford_mad=_num(benford, "mad", d.benford_mad),
        benford_z=_num(benford, "robust_z", d.benford_z),
        group_min_days=_int(group, "min_days", d.group_min_days),
        group_min_size=_int(group, "min_size", d.group_min_size),
        low_stay_days=_int(low, "max_days", d.low_stay_days),
        low_cost_share=_num(low, "cost_share", d.low_cost_share),
        outpatient_diagnoses=diagnoses,
        bed_only_days=kb.window("bed_only", day, _int(bed, "days", d.bed_only_days)),
        holding_grace_days=kb.window(
            "holding", day, _int(hold, "grace_days", d.holding_grace_days)
        ),
        holding_default_days=_int(hold, "default_days", d.holding_default_days),
        frequency_limits=tuple(
            (f.hilist_code, f.per_day, f.per_admission, f.per_year)
            for f in kb.frequency_limits
            if f.valid_on(day)
        ),
    )
    categories = frozenset(RULE_IDS[r] for r in rules)
    return Plan(categories, t, diagnoses, rules)
