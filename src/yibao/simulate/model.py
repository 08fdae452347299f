"""The synthetic city's plain data: parameters, institutions, persons, visits, labels.

Everything is frozen data built by `yibao.simulate.people` / `visits` from one
`random.Random(seed)` per stream; nothing here reads the clock or global random state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Final, NamedTuple

#: The 28 risk category keys (issue 18), each with its Chinese name and the unit a label and a
#: hit are matched on: `line` (a fee line), `visit` (a settlement/visit), `person-window` (a
#: person over a span of days), `institution`, `group` (persons visiting together).
CATEGORIES: Final = {
    "gender_limit": ("限性别", "line"),
    "child_only": ("儿童专用/限儿童", "line"),
    "age_limit": ("限年龄", "line"),
    "hosp_lv_limit": ("限机构级别/类型", "line"),
    "indication_limit": ("限适应症/支付范围", "line"),
    "med_type_limit": ("限就医方式", "line"),
    "duplicate_charge": ("重复收费", "line"),
    "over_price": ("超标准收费", "line"),
    "split_charge": ("分解收费", "line"),
    "item_substitution": ("串换项目", "line"),
    "over_quantity": ("超量/超天数", "line"),
    "repeat_prescription": ("重复开药(持有量)", "line"),
    "frequency_limit": ("频次/数量超限", "line"),
    "split_admission": ("分解住院", "visit"),
    "bed_hogging": ("挂床住院", "visit"),
    "los_outlier": ("住院天数异常", "visit"),
    "low_threshold_admission": ("低标准入院", "visit"),
    "fabricated_service": ("虚构服务", "line"),
    "same_day_multi_visit": ("同日多次就诊", "visit"),
    "frequent_visits": ("频繁就诊", "person-window"),
    "outpatient_during_stay": ("住院期间门诊", "visit"),
    "pharmacy_non_drug": ("药店购非药品", "line"),
    "card_misuse": ("冒用医保卡", "visit"),
    "clustered_visits": ("聚集性就诊", "group"),
    "high_value_consumable": ("高值耗材异常", "line"),
    "out_of_catalog": ("目录外", "line"),
    "peer_outlier": ("同行偏离", "institution"),
    "benford": ("金额分布异常", "institution"),
}

#: The categories the generator injects (docs/simulate.md): every one a bill or a visit
#: pattern can show. `item_substitution` needs a pharmacy's stock (进销存), which the city
#: does not simulate yet.
ANOMALY_KINDS: Final = tuple(k for k in CATEGORIES if k != "item_substitution")

#: Default injection rates. Small enough that most of the city is clean; each category's
#: near-misses (docs/simulate.md) come at the same rate.
DEFAULT_RATES: Final = {
    "gender_limit": 0.003,
    "child_only": 0.003,
    "age_limit": 0.003,
    "hosp_lv_limit": 0.003,
    "indication_limit": 0.003,
    "med_type_limit": 0.003,
    "duplicate_charge": 0.005,
    "over_price": 0.005,
    "split_charge": 0.003,
    "over_quantity": 0.005,
    "repeat_prescription": 0.01,
    "frequency_limit": 0.01,
    "split_admission": 0.03,
    "bed_hogging": 0.02,
    "los_outlier": 0.01,
    "low_threshold_admission": 0.002,
    "fabricated_service": 0.01,
    "same_day_multi_visit": 0.005,
    "frequent_visits": 0.003,
    "outpatient_during_stay": 0.02,
    "pharmacy_non_drug": 0.005,
    "card_misuse": 0.004,
    "clustered_visits": 0.02,
    "high_value_consumable": 0.01,
    "out_of_catalog": 0.003,
    "peer_outlier": 0.05,
    "benford": 0.05,
}

#: what the rate of each category is a probability of
ANOMALY_UNIT: Final = {
    "gender_limit": "outpatient visit",
    "child_only": "outpatient visit of a person aged 14 or more",
    "age_limit": "outpatient visit of a person under 18",
    "hosp_lv_limit": "outpatient visit below level 3",
    "indication_limit": "outpatient visit without a diagnosis a restricted drug is indicated for",
    "med_type_limit": "outpatient or pharmacy visit",
    "duplicate_charge": "visit",
    "over_price": "visit",
    "split_charge": "outpatient visit",
    "over_quantity": "general outpatient visit",
    "repeat_prescription": "chronic-disease outpatient visit",
    "frequency_limit": "admission",
    "split_admission": "admission",
    "bed_hogging": "admission",
    "los_outlier": "admission",
    "low_threshold_admission": "person",
    "fabricated_service": "admission",
    "same_day_multi_visit": "acute outpatient visit",
    "frequent_visits": "person",
    "outpatient_during_stay": "admission",
    "pharmacy_non_drug": "pharmacy visit",
    "card_misuse": "person",
    "clustered_visits": "person",
    "high_value_consumable": "admission",
    "out_of_catalog": "outpatient visit or pharmacy visit (a pharmacy's non-drug goods)",
    "peer_outlier": "institution (not pharmacies)",
    "benford": "pharmacy",
}


@dataclass(frozen=True, slots=True)
class CityParams:
    seed: int = 20240101
    persons: int = 2000
    #: total institutions (hospitals, clinics and pharmacy stores); at least 12
    institutions: int = 20
    start: date = date(2024, 1, 1)
    days: int = 365
    #: target number of settlements (None: about 8 per person and year)
    settlements: int | None = None
    rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    #: share of settlements later reversed (2208/2305/2103)
    reversal_rate: float = 0.005


@dataclass(frozen=True, slots=True)
class Department:
    dept_code: str
    dept_name: str
    caty: str


@dataclass(frozen=True, slots=True)
class Doctor:
    dr_code: str
    dr_name: str
    dept_code: str


@dataclass(frozen=True, slots=True)
class Institution:
    fixmedins_code: str
    fixmedins_name: str
    #: hospital | clinic | pharmacy
    kind: str
    #: "1" | "2" | "3"; pharmacies "0"
    hosp_lv: str
    admdvs: str
    parent_code: str | None
    departments: tuple[Department, ...]
    doctors: tuple[Doctor, ...]
    #: an institution-level pattern injected and labelled: "peer_outlier" (an up-coding
    #: institution) or "benford" (a pharmacy whose bill totals are made up); None: clean
    pattern: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    psn_no: str
    certno: str
    psn_name: str
    gend: str
    brdy: date
    insutype: str
    psn_type: str
    cvlserv_flag: str
    insuplc_admdvs: str
    #: home district (admdvs)
    district: str
    emp_name: str | None
    psn_insu_date: date
    balc: Decimal
    card_no: str
    card_sn: str
    ec_token: str
    tel: str
    #: assistance identities (psn_idet_type codes), valid over the whole year
    idets: tuple[str, ...] = ()
    #: chronic conditions (keys of clinical.CONDITIONS)
    chronic: tuple[str, ...] = ()
    #: the recorded date of death (psn.death_date), None while alive
    death_date: date | None = None
    #: injected card misuse (the generator's own, never written): "after_death" (visits
    #: after the date of death) or "two_places" (two institutions at once)
    misuse: str | None = None
    #: insured in another region (insuplc_admdvs ≠ the demo city's) and holding a long-term
    #: 异地就医备案 for the demo city from psn_insu_date on (without one: the 未备案 ratio)
    remote_registered: bool = False


class Line(NamedTuple):
    """One fee line of a bill. A named tuple rather than a frozen dataclass: a city has tens
    of millions of them, and a frozen dataclass pays a call per field to build one."""

    feedetl_sn: str
    hilist_code: str
    hilist_name: str
    list_type: str
    med_chrgitm_type: str
    cnt: Decimal
    pric: Decimal
    det_item_fee_sumamt: Decimal
    fee_ocur_time: datetime
    prd_days: Decimal | None = None
    used_frqu_dscr: str | None = None
    sin_dos_dscr: str | None = None
    medc_way_dscr: str | None = None


@dataclass(frozen=True, slots=True)
class Visit:
    #: global, deterministic number of the visit in the city (the label key)
    visit_no: int
    #: outpatient | inpatient | pharmacy
    kind: str
    med_type: str
    psn_no: str
    fixmedins_code: str
    hosp_lv: str
    dept_code: str
    dept_name: str
    caty: str
    dr_code: str
    dr_name: str
    begntime: datetime
    endtime: datetime | None
    #: ((diag_code, diag_name), …), main diagnosis first
    diagnoses: tuple[tuple[str, str], ...]
    lines: tuple[Line, ...]
    #: the institution's own visit number (ipt_otp_no / ipt_no)
    ipt_otp_no: str
    #: this settlement is reversed later (2208/2305/2103) — part of normal operations
    reversed: bool = False

    @property
    def total(self) -> Decimal:
        return sum((ln.det_item_fee_sumamt for ln in self.lines), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class Label:
    """One injected anomaly under its category key. `visit_no` is 0 for person- or
    institution-level labels; `feedetl_sn` names the fee line of a line-unit category."""

    category: str
    visit_no: int
    psn_no: str | None
    fixmedins_code: str | None
    day: date | None
    detail: str
    feedetl_sn: str | None = None
