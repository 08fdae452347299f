"""The rule base's categories (all 28 keys of issue 18 / domain.md §2.2) and the registry of the
pure logic behind them.

A *category* is what kind of misuse is looked for, with its Chinese name, the unit it is judged
and scored on (a fee line, a visit, a person over a window, an institution, a group) and the
stages that can judge it at all. A *logic* is a pure function registered here under its
category; a *rule* (`risk.params_io.Rule`) binds a logic to its parameters, threshold, result
type, stages, scope, action and dates, read from the region's parameter file.

`judged_at` says where real-time review runs a category: "upload" — with each fee upload
(2204/2301; a pharmacy's 2101/2102 runs both); "settlement" — at (pre-)settlement
(2206/2207, 2303/2304), when the whole bill and the visit's shape are known; None — post only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal, NamedTuple

from yibao.risk.kb import KnowledgeBase
from yibao.risk.model import Bill, History, Line, Stage, Unit

JudgedAt = Literal["upload", "settlement"] | None

ParamValue = Decimal | int | bool | str | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    name: str
    unit: Unit
    stages: tuple[Stage, ...]
    judged_at: JudgedAt
    #: what the category looks for, in Chinese (rules explain)
    explain: str


def _c(key: str, name: str, unit: Unit, stages: str, judged_at: JudgedAt, explain: str) -> Category:
    st: tuple[Stage, ...] = tuple(s for s in ("pre", "mid", "post") if s in stages.split(","))
    return Category(key, name, unit, st, judged_at, explain)


_ALL = "pre,mid,post"
_MP = "mid,post"

#: every category key, in the order of issue 18
CATEGORIES: Mapping[str, Category] = {
    c.key: c
    for c in (
        _c("gender_limit", "限性别", "line", _ALL, "upload",
           "药品或诊疗项目限定某一性别使用, 用于另一性别的患者。"),
        _c("child_only", "儿童专用/限儿童", "line", _ALL, "upload",
           "儿童专用药品或限儿童使用的项目, 用于超出儿童年龄的患者。"),
        _c("age_limit", "限年龄", "line", _ALL, "upload",
           "项目限定年龄范围使用, 患者年龄在范围之外。"),
        _c("hosp_lv_limit", "限机构级别/类型", "line", _ALL, "upload",
           "项目限定在某些级别的医疗机构使用, 本机构级别不在其中。"),
        _c("indication_limit", "限适应症/支付范围", "line", _ALL, "upload",
           "限定支付范围(限适应症)的药品或项目, 本次就诊没有符合的诊断; 医院标记的审批通过不能代替诊断(参数 accept_approval 可改), 医院标记审批不通过(自费)的不计。"),
        _c("med_type_limit", "限就医方式", "line", _ALL, "upload",
           "项目限门诊或限住院等就医方式使用, 本次医疗类别不符。"),
        _c("duplicate_charge", "重复收费", "line", _ALL, "upload",
           "同一就诊中, 项目内涵已包含的项目又单独收费, 或互斥项目同时收费, 或同一项目同一时间重复上传。"),
        _c("over_price", "超标准收费", "line", _ALL, "upload",
           "收费单价高于知识库的标准价格(限价)。"),
        _c("split_charge", "分解收费", "line", _ALL, "upload",
           "同一天把一个打包收费的项目拆成多个组成项目分别收费。"),
        _c("item_substitution", "串换项目", "line", _MP, "upload",
           "药店结算的药品数量超过其进销存记录中的库存(申报的进货减去销售), 疑似串换。"),
        _c("over_quantity", "超量/超天数", "line", _ALL, "upload",
           "单条明细的数量或用药天数超过目录或知识库规定, 或日剂量超过上限。"),
        _c("repeat_prescription", "重复开药(持有量)", "line", _ALL, "upload",
           "患者此前开的同一药品尚有余量(持有天数超过允许的宽限天数)时再次开药。"),
        _c("frequency_limit", "频次/数量超限", "line", _ALL, "upload",
           "同一项目每日、每次住院或每年的数量超过知识库的上限。"),
        _c("split_admission", "分解住院", "visit", _MP, "settlement",
           "出院后在规定天数内再次入院, 疑似把一次住院拆成两次。"),
        _c("bed_hogging", "挂床住院", "visit", "post", None,
           "住院期间多日只有床位费和护理费而无实际治疗(事后规则)。"),
        _c("los_outlier", "住院天数异常", "visit", "post", None,
           "住院天数远高于同病种同级别的常模(事后规则)。"),
        _c("low_threshold_admission", "低标准入院", "visit", "post", None,
           "无住院指征的入院, 如以检查为主的低费用住院(事后规则)。"),
        _c("fabricated_service", "虚构服务", "line", _MP, "upload",
           "死亡日期之后仍发生的诊疗或药品费用。"),
        _c("same_day_multi_visit", "同日多次就诊", "visit", _MP, "settlement",
           "同一人同一天在多家机构门诊就诊(同一机构的再次就诊不计)。"),
        _c("frequent_visits", "频繁就诊", "person_window", _MP, "settlement",
           "一段时间内的门诊就诊次数超过上限。"),
        _c("outpatient_during_stay", "住院期间门诊", "visit", _MP, "settlement",
           "患者住院期间(入院日之后、出院日之前)发生门诊或药店结算。"),
        _c("pharmacy_non_drug", "药店购非药品", "line", _ALL, "upload",
           "在定点药店刷卡购买医保目录外的商品或非药品类项目。"),
        _c("card_misuse", "冒用医保卡", "visit", _MP, "settlement",
           "参保人死亡日期之后仍使用其医保凭证就诊或购药, 或同一天在两家机构的门诊间隔短得不可能(一卡两地)。"),
        _c("clustered_visits", "聚集性就诊", "group", "post", None,
           "一群人在相同时间反复到同一机构就诊(事后规则)。"),
        _c("high_value_consumable", "高值耗材异常", "line", _MP, "settlement",
           "高值医用耗材收费, 而同一就诊中没有与之配套的手术或操作项目。"),
        _c("out_of_catalog", "目录外", "line", _ALL, "upload",
           "收费项目在费用发生日不在医保目录内, 却申请医保结算。"),
        _c("peer_outlier", "同行偏离", "institution", "post", None,
           "机构的次均费用、住院天数或药占比显著偏离同级同类机构(事后规则)。"),
        _c("benford", "金额分布异常", "institution", "post", None,
           "机构金额首位数字分布显著偏离本福特定律(事后规则)。"),
    )
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Finding:
    """What a logic found; the engine adds the rule's identity and action."""

    reason: str
    line_ids: tuple[str, ...] = ()
    threshold: str = ""
    value: str = ""
    amount: Decimal = Decimal(0)
    evidence: Mapping[str, object] = field(default_factory=dict)


class Facts(NamedTuple):
    """A logic's input: the bill, the history, the knowledge base on the bill's date, the
    rule's parameters (validated against the logic's declared ones). Built once per rule on
    every review, so a named tuple (a frozen dataclass sets each field through
    `object.__setattr__`: ~2 µs a rule, against ~0.8 µs)."""

    bill: Bill
    history: History
    kb: KnowledgeBase
    params: Mapping[str, ParamValue]
    day: date
    #: the bill's charging lines (refund lines, negative, are never findings) and those with
    #: the visit's earlier charging lines, computed once per review
    charged: tuple[Line, ...] = ()
    visit_charged: tuple[Line, ...] = ()


Logic = Callable[[Facts], Sequence[Finding]]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """A parameter a logic reads: its type and default (None: required)."""

    kind: Literal["decimal", "int", "bool", "str", "strs"]
    default: ParamValue | None
    doc: str
    #: the values a str / strs parameter may take (empty: any)
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LogicEntry:
    category: str
    logic: Logic
    params: Mapping[str, ParamSpec]
    #: the parameter that is the rule's threshold (shown in hits and listings)
    threshold: str | None
    #: finds only charged lines of the bill whose catalog term restricts them (`Line.limits`
    #: other than `NO_LIMITS`): the engine skips it on a bill without one
    restricted_lines_only: bool = False


LOGICS: dict[str, LogicEntry] = {}


def logic(
    category: str,
    *,
    params: Mapping[str, ParamSpec] | None = None,
    threshold: str | None = None,
    restricted_lines_only: bool = False,
) -> Callable[[Logic], Logic]:
    """Register `fn` as the logic of `category` (one logic per category)."""
    if category not in CATEGORIES:
        raise KeyError(category)

    def wrap(fn: Logic) -> Logic:
        LOGICS[category] = LogicEntry(
            category, fn, dict(params or {}), threshold, restricted_lines_only
        )
        return fn

    return wrap
