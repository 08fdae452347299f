"""Versioned policy parameters: the data model and the lookup.

A *region version* is one TOML file: one pooling region (admdvs), one validity interval, and
the rules that apply in it. A :class:`PolicyBook` holds every loaded version in layers (a data
directory's files before the packaged ones) and answers "which rules apply to this person and
visit on this date". Parsing and :func:`load_book` live in :mod:`yibao.policy.params_io`; the file format is
documented in docs/policy.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol, TypeVar

from yibao.codes.dicts import FundPayType, HospLv, MedType, PsnIdetType
from yibao.policy.model import PersonTerms, PolicyRefusal, VisitTerms

UnknownCodeRule = Literal["refuse", "self_pay"]
VisitClass = Literal["outpatient", "inpatient", "pharmacy", "chronic_outpatient"]
VISIT_CLASSES: tuple[VisitClass, ...] = (
    "outpatient",
    "inpatient",
    "pharmacy",
    "chronic_outpatient",
)
DedcMode = Literal["none", "annual", "admission"]
AcctScope = Literal["none", "inscp", "inscp_pre", "all"]
BandScope = Literal["annual", "visit"]

#: Key of a by-level table that applies to every level not listed.
ANY_LEVEL = "*"

#: The default short counter name per visit class (accumulator key prefix).
DEFAULT_COUNTER: Mapping[str, str] = {
    "outpatient": "otp",
    "inpatient": "ipt",
    "pharmacy": "pharmacy",
    "chronic_outpatient": "mtb",
}


def default_visit_class(med_type: MedType) -> VisitClass:
    """The visit class of a med_type when the region's file does not say otherwise."""
    if med_type.is_inpatient:
        return "inpatient"
    if med_type is MedType.PHARMACY:
        return "pharmacy"
    if med_type in (MedType.CHRONIC_OUTPATIENT, MedType.SPECIAL_DRUG):
        return "chronic_outpatient"
    return "outpatient"


@dataclass(frozen=True, slots=True)
class ByLevel:
    """A value that may differ by institution level: ``{"1": …, "2": …, "*": …}``."""

    values: Mapping[str, Decimal]
    what: str

    def at(self, lv: HospLv) -> Decimal:
        if lv.value in self.values:
            return self.values[lv.value]
        if ANY_LEVEL in self.values:
            return self.values[ANY_LEVEL]
        raise PolicyRefusal(
            f"政策参数 {self.what} 未定义机构等级 {lv.value} {lv.label} "
            f"(no parameter {self.what} for hosp_lv {lv.value})",
            field="hosp_lv",
        )

    @staticmethod
    def of(value: Decimal, what: str) -> ByLevel:
        return ByLevel({ANY_LEVEL: value}, what)


@dataclass(frozen=True, slots=True)
class ByLevelText:
    """A text (counter name) that may differ by institution level."""

    values: Mapping[str, str]

    def at(self, lv: HospLv) -> str:
        return self.values.get(lv.value, self.values.get(ANY_LEVEL, ""))


@dataclass(frozen=True, slots=True)
class Band:
    """One band: ``ratio`` applies up to ``upto`` on the band axis (None = no upper bound)."""

    upto: Decimal | None
    ratio: ByLevel


@dataclass(frozen=True, slots=True)
class DedcRule:
    mode: DedcMode
    #: annual: the annual deductible; admission: the first admission's deductible.
    amount: ByLevel
    #: admission mode: the deductible from the second admission of the year.
    later: ByLevel
    counter: ByLevelText


@dataclass(frozen=True, slots=True)
class PoolRule:
    bands: tuple[Band, ...]
    #: Annual cap on the pool paid on ``cap_counter``; None = no cap.
    cap: Decimal | None
    band_scope: BandScope
    band_counter: ByLevelText
    cap_counter: str
    #: None: 310100 for employees (insutype 310), 390100 for everyone else.
    fund_type: FundPayType | None


@dataclass(frozen=True, slots=True)
class AcctRule:
    scope: AcctScope
    family_share: bool


@dataclass(frozen=True, slots=True)
class BasicRule:
    """Deductible, pooled fund and personal account for (insutype, group, visit class)."""

    id: str
    insutypes: frozenset[str]
    psn_groups: frozenset[str]
    visit_classes: frozenset[str]
    psn_types: frozenset[str] | None
    age_min: int | None
    age_max: int | None
    dedc: DedcRule
    pool: PoolRule | None
    acct: AcctRule

    @property
    def specificity(self) -> int:
        return (2 if self.psn_types is not None else 0) + (
            1 if self.age_min is not None or self.age_max is not None else 0
        )

    def matches(self, person: PersonTerms, visit_class: str) -> bool:
        return (
            person.insutype.value in self.insutypes
            and person.psn_type.group.value in self.psn_groups
            and visit_class in self.visit_classes
            and (self.psn_types is None or person.psn_type.value in self.psn_types)
            and (self.age_min is None or person.age >= self.age_min)
            and (self.age_max is None or person.age <= self.age_max)
        )


@dataclass(frozen=True, slots=True)
class TopupRule:
    """Employee 大额医疗费用补助 (hifob): pays ``ratio`` of the expense above the pool cap."""

    id: str
    insutypes: frozenset[str]
    visit_classes: frozenset[str]
    ratio: ByLevel
    cap: Decimal | None


@dataclass(frozen=True, slots=True)
class PoorTilt:
    identities: frozenset[str]
    dedc_factor: Decimal
    ratio_bonus: Decimal
    no_cap: bool


@dataclass(frozen=True, slots=True)
class CriticalRule:
    """Residents' 大病保险 (hifmi) on the annual cumulative in-scope self-pay."""

    id: str
    insutypes: frozenset[str]
    visit_classes: frozenset[str]
    dedc: Decimal
    #: Bands on the amount above the deductible.
    bands: tuple[Band, ...]
    cap: Decimal | None
    poor: PoorTilt | None


@dataclass(frozen=True, slots=True)
class AssistanceTier:
    identities: frozenset[str]
    ratio: Decimal
    dedc: Decimal
    limit: Decimal | None


@dataclass(frozen=True, slots=True)
class AssistanceRule:
    """医疗救助 (maf) for persons with an eligible identity; the best tier applies."""

    id: str
    insutypes: frozenset[str]
    visit_classes: frozenset[str]
    tiers: tuple[AssistanceTier, ...]

    def tier_for(self, identities: Sequence[PsnIdetType]) -> AssistanceTier | None:
        held = {i.value for i in identities}
        best: AssistanceTier | None = None
        for tier in self.tiers:
            if tier.identities & held and (best is None or tier.ratio > best.ratio):
                best = tier
        return best


@dataclass(frozen=True, slots=True)
class CvlservRule:
    """公务员医疗补助 (cvlserv) on the in-scope self-pay left after pool and top-up."""

    id: str
    insutypes: frozenset[str]
    visit_classes: frozenset[str]
    ratio: ByLevel
    cap: Decimal | None


UnregisteredRule = Literal["refuse", "reduce"]


@dataclass(frozen=True, slots=True)
class RemoteRule:
    """异地就医 terms of the insured region (the ``[remote]`` table): what happens when one of
    its persons is treated in another region without a valid 异地就医备案. ``refuse``: the
    settlement is refused; ``reduce``: the pool's ratios drop by ``unregistered_ratio_cut``
    (the 未备案 ratio). Emergency care (med_type 13, 24) never needs a registration."""

    unregistered: UnregisteredRule = "refuse"
    #: percentage points (as a fraction) the pool's ratios drop by without a registration
    unregistered_ratio_cut: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class ClearingTerms:
    """The region's clearing (清算) parameters ([clearing] in the file, docs/clearing.md)."""

    #: 质量保证金: the share of each payment order withheld until the annual assessment
    quality_deposit_rate: Decimal = Decimal("0")
    #: funds whose orders withhold no deposit (e.g. the personal account 310200)
    deposit_exempt_funds: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RegionVersion:
    """One parameter file: a region's rules valid from ``begndate`` to ``enddate``."""

    admdvs: str
    name: str
    covers: tuple[str, ...]
    version: str
    begndate: date
    #: Inclusive; None = open-ended.
    enddate: date | None
    unknown_code: UnknownCodeRule
    med_type_class: Mapping[str, VisitClass]
    rules: tuple[BasicRule, ...]
    topups: tuple[TopupRule, ...]
    criticals: tuple[CriticalRule, ...]
    assistances: tuple[AssistanceRule, ...]
    cvlservs: tuple[CvlservRule, ...]
    source: str
    clearing: ClearingTerms = ClearingTerms()
    remote: RemoteRule = RemoteRule()

    def valid_on(self, day: date) -> bool:
        return self.begndate <= day and (self.enddate is None or day <= self.enddate)

    @property
    def label(self) -> str:
        return f"{self.admdvs}@{self.begndate.isoformat()}"

    def visit_class(self, med_type: MedType) -> VisitClass:
        return self.med_type_class.get(med_type.value, default_visit_class(med_type))


@dataclass(frozen=True, slots=True)
class LineRules:
    """The parameters a single fee line's split needs (region-level)."""

    unknown_code: UnknownCodeRule = "self_pay"


@dataclass(frozen=True, slots=True)
class Resolved:
    """Everything that applies to one settlement."""

    version: RegionVersion
    visit_class: VisitClass
    basic: BasicRule
    topup: TopupRule | None
    critical: CriticalRule | None
    assistance: AssistanceRule | None
    cvlserv: CvlservRule | None
    #: e.g. ``110199@2024-01-01#emp-in-service-otp``; kept, since the book memoises its
    #: resolutions and every settlement under one reads it
    policy_version: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy_version", f"{self.version.label}#{self.basic.id}")


class _Layer(Protocol):
    @property
    def insutypes(self) -> frozenset[str]: ...

    @property
    def visit_classes(self) -> frozenset[str]: ...


_R = TypeVar("_R", bound=_Layer)


def _first(rules: Sequence[_R], insutype: str, visit_class: str) -> _R | None:
    for rule in rules:
        if insutype in rule.insutypes and visit_class in rule.visit_classes:
            return rule
    return None


#: entries a memo of the book holds before it starts again (bounds memory, not correctness)
_MEMO_LIMIT = 65_536


class PolicyBook:
    """All loaded parameter versions in layers; the first layer holding a version of the
    region valid on the date wins (data directories come before the packaged files)."""

    def __init__(self, layers: Sequence[Sequence[RegionVersion]]):
        self._layers = tuple(tuple(layer) for layer in layers)
        # Memos of pure lookups (the book never changes after loading): every settlement
        # resolves its rules, and a city has few distinct (region, day, visit, person) keys.
        self._versions: dict[tuple[str, date], RegionVersion] = {}
        self._resolved: dict[tuple[int, str, str, str, int], Resolved] = {}
        self._treatment: dict[tuple[str, date], RegionVersion | None] = {}

    @property
    def versions(self) -> tuple[RegionVersion, ...]:
        return tuple(v for layer in self._layers for v in layer)

    def version_for(self, admdvs: str, on: date) -> RegionVersion:
        found = self._versions.get((admdvs, on))
        if found is not None:
            return found
        for layer in self._layers:
            found = _region_match(layer, admdvs, on)
            if found is not None:
                if len(self._versions) >= _MEMO_LIMIT:
                    self._versions.clear()
                self._versions[(admdvs, on)] = found
                return found
        raise PolicyRefusal(
            f"医保区划 {admdvs} 在 {on.isoformat()} 没有有效的待遇政策参数 "
            f"(no policy parameters for admdvs {admdvs} valid on {on.isoformat()})",
            field="admdvs",
        )

    def treatment_region(self, district: str, on: date) -> RegionVersion | None:
        """The region whose ``covers`` holds an institution's district (its admdvs), valid on
        the day; None when no hosted region covers it. The region of treatment: its catalog
        and payment scope apply to each fee line (就医地目录). Memoised like `version_for`:
        every settlement asks it."""
        key = (district, on)
        if key in self._treatment:
            return self._treatment[key]
        found: RegionVersion | None = None
        for layer in self._layers:
            found = _region_match(layer, district, on)
            if found is not None:
                break
        if len(self._treatment) >= _MEMO_LIMIT:
            self._treatment.clear()
        self._treatment[key] = found
        return found

    def line_rules(self, admdvs: str, on: date) -> LineRules:
        return LineRules(unknown_code=self.version_for(admdvs, on).unknown_code)

    def resolve(self, person: PersonTerms, visit: VisitTerms) -> Resolved:
        # Two memos: the version by (region, day), then the rules by what they match on
        # within that version (BasicRule.matches, visit_class). The second key leaves the
        # day out, so a year of settlements shares one entry per (visit, person) kind
        # instead of 365.
        version = self.version_for(visit.admdvs, visit.setl_date)
        key = (
            id(version),
            visit.med_type.value,
            person.insutype.value,
            person.psn_type.value,
            person.age,
        )
        found = self._resolved.get(key)
        if found is None:
            found = self._resolve(version, person, visit)
            if len(self._resolved) >= _MEMO_LIMIT:
                self._resolved.clear()
            self._resolved[key] = found
        return found

    def _resolve(self, version: RegionVersion, person: PersonTerms, visit: VisitTerms) -> Resolved:
        vclass = version.visit_class(visit.med_type)
        candidates = [r for r in version.rules if r.matches(person, vclass)]
        if not candidates:
            raise PolicyRefusal(
                f"区划 {version.admdvs} 无适用待遇: 险种 {person.insutype.value}, "
                f"人员类别 {person.psn_type.value}, 年龄 {person.age}, 就诊类别 {vclass} "
                f"(no rule for insutype {person.insutype.value}, psn_type "
                f"{person.psn_type.value}, age {person.age}, visit class {vclass} "
                f"in {version.source})",
                field="insutype",
            )
        top = max(r.specificity for r in candidates)
        basic = next(r for r in candidates if r.specificity == top)
        ins = person.insutype.value
        return Resolved(
            version=version,
            visit_class=vclass,
            basic=basic,
            topup=_first(version.topups, ins, vclass),
            critical=_first(version.criticals, ins, vclass),
            assistance=_first(version.assistances, ins, vclass),
            cvlserv=_first(version.cvlservs, ins, vclass),
        )


def _region_match(layer: Sequence[RegionVersion], admdvs: str, on: date) -> RegionVersion | None:
    exact = [v for v in layer if v.admdvs == admdvs and v.valid_on(on)]
    if exact:
        return exact[0]
    best: RegionVersion | None = None
    best_len = -1
    for v in layer:
        if not v.valid_on(on):
            continue
        for prefix in v.covers:
            if admdvs.startswith(prefix) and len(prefix) > best_len:
                best, best_len = v, len(prefix)
    return best
