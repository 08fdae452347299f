"""The synthetic city's plain data: parameters, institutions, persons, visits, labels.

Everything is frozen data built by `yibao.simulate.people` / `visits` from one
`random.Random(seed)` per stream; nothing here reads the clock or global random state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Final, NamedTuple

#: The anomaly kinds the generator can inject (docs/simulate.md). Each is labelled in the
#: labels file, kept apart from the data the platform sees.
ANOMALY_KINDS: Final = (
    "readmission_15d",
    "frequent_visits",
    "same_day_visits",
    "otp_during_ipt",
    "sex_restricted_item",
    "age_restricted_item",
    "over_quantity",
    "price_above_cap",
    "duplicate_billing",
    "cost_outlier_institution",
    "group_visits",
)

#: Default injection rates: per admission (readmission, otp_during_ipt), per person
#: (frequent_visits, group_visits), per institution (cost_outlier_institution), per visit
#: (the rest). Small enough that most of the city is clean.
DEFAULT_RATES: Final = {
    "readmission_15d": 0.05,
    "frequent_visits": 0.005,
    "same_day_visits": 0.01,
    "otp_during_ipt": 0.03,
    "sex_restricted_item": 0.005,
    "age_restricted_item": 0.005,
    "over_quantity": 0.01,
    "price_above_cap": 0.01,
    "duplicate_billing": 0.01,
    "cost_outlier_institution": 0.05,
    "group_visits": 0.002,
}

#: what the rate of each kind is a probability of
ANOMALY_UNIT: Final = {
    "readmission_15d": "admission",
    "frequent_visits": "person",
    "same_day_visits": "outpatient visit",
    "otp_during_ipt": "admission",
    "sex_restricted_item": "outpatient visit",
    "age_restricted_item": "outpatient visit",
    "over_quantity": "outpatient visit",
    "price_above_cap": "visit",
    "duplicate_billing": "visit",
    "cost_outlier_institution": "institution",
    "group_visits": "person",
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
    #: labelled anomaly: this institution inflates its bills
    cost_outlier: bool = False


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
    """One injected anomaly. `visit_no` is 0 for person- or institution-level labels."""

    anomaly: str
    visit_no: int
    psn_no: str | None
    fixmedins_code: str | None
    day: date | None
    detail: str
