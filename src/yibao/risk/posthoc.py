"""The post-hoc-only categories' parameters (事后规则): what `yibao risk run` reads from the rule
base for the detectors of `yibao.monitoring` (docs/monitoring.md).

The detectors run on the columnar replica, over many settlements at once, not on one bill: the
logic registered here judges nothing in real time (the categories' only stage is `post`, so
real-time review never selects them). Registering them gives the rules a home in the same
rule base — `yibao rules list` shows them, a region's `risk/*.toml` tunes them by re-declaring
the rule id — and their parameters one validated place. The windowed categories that real-time
review judges too (split_admission, frequent_visits, …) use their registered logic's
parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from yibao.risk.registry import Facts, Finding, ParamSpec, logic

#: ICD-10 prefixes of conditions normally treated as outpatients (低标准入院; the demo region's,
#: as the demo knowledge base `simulate/risk_kb_demo.json` lists them)
OUTPATIENT_DIAGNOSES = ("J06", "K29", "M54", "H10", "L30", "K02")


def _post_only(_f: Facts) -> Sequence[Finding]:
    """Judged on the replica by `yibao.monitoring`, never on one bill."""
    return ()


logic(
    "los_outlier",
    params={
        "ratio": ParamSpec("decimal", Decimal("2.0"), "住院天数超过同病种第95百分位数的倍数, windows 表的 los_outlier 阈值优先 (a stay longer than this many times its diagnosis group's 95th percentile; the windows table's los_outlier threshold wins)"),
        "min_peers": ParamSpec("int", 5, "同病种住院数少于此不比较 (stays a diagnosis group needs to be compared)"),
    },
    threshold="ratio",
)(_post_only)  # fmt: skip

logic(
    "low_threshold_admission",
    params={
        "max_days": ParamSpec("int", 3, "住院天数不超过此数 (a stay of at most this many days)"),
        "cost_share": ParamSpec("decimal", Decimal("0.35"), "费用低于同病种中位数的此比例 (costing below this share of its diagnosis group's median)"),
        "outpatient_diagnoses": ParamSpec("strs", OUTPATIENT_DIAGNOSES, "通常门诊治疗的诊断(ICD-10 前缀) (ICD-10 prefixes of conditions treated as outpatients)"),
    },
    threshold="max_days",
)(_post_only)  # fmt: skip

logic(
    "peer_outlier",
    params={
        "robust_z": ParamSpec("decimal", Decimal("6.0"), "稳健 z 分数(中位数/MAD)超过此值 (robust z-score beyond which a metric is an outlier)"),
        "min_ratio": ParamSpec("decimal", Decimal("1.5"), "且不低于同组中位数的此倍数 (and at least this many times the peers' median)"),
        "min_share_gap": ParamSpec("decimal", Decimal("0.05"), "占比类指标还须高出同组中位数此值 (a share must also lie this far above the peers' median)"),
        "min_peers": ParamSpec("int", 5, "同组机构少于此数不比较 (peers a comparison needs)"),
        "min_visits": ParamSpec("int", 30, "机构期间就诊少于此数不比较 (visits an institution needs in the period)"),
        "winsor": ParamSpec("decimal", Decimal("0.995"), "高于同组结算此分位数的单据按该分位数计 (bills above this quantile of the peer group's count at it; 1 = as billed)"),
        "drop_costliest": ParamSpec("int", 2, "科室、医师剔除相对病种费用最高的单据数 (a department's or doctor's costliest cases left out)"),
    },
    threshold="robust_z",
)(_post_only)  # fmt: skip

logic(
    "benford",
    params={
        "mad": ParamSpec("decimal", Decimal("0.015"), "首位数字占比的平均绝对偏差超过此值为不符合 (mean absolute deviation of first-digit shares; Nigrini: 0.015)"),
        "min_bills": ParamSpec("int", 200, "机构期间结算少于此数不检验 (bills an institution needs)"),
        "robust_z": ParamSpec("decimal", Decimal("3.5"), "偏差须高出同类机构的稳健 z 分数 (how far above its peers' deviations, in robust z)"),
    },
    threshold="mad",
)(_post_only)  # fmt: skip

logic(
    "bed_hogging",
    params={
        "days": ParamSpec("int", 3, "连续此天数及以上仅有床位费与护理费为挂床, windows 表的 bed_only 天数优先 (consecutive bed-and-nursing-only days; the windows table's bed_only days win)"),
    },
    threshold="days",
)(_post_only)  # fmt: skip

logic(
    "clustered_visits",
    params={
        "min_days": ParamSpec("int", 3, "同一机构共同就诊至少此天数 (days persons co-visit one institution)"),
        "min_size": ParamSpec("int", 4, "群体至少此人数 (persons a group needs)"),
    },
    threshold="min_size",
)(_post_only)  # fmt: skip
