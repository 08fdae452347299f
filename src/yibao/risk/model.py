"""The review's plain-data inputs and its output.

A *bill* is what one call shows: the lines (with the catalog facts of each item), the visit,
the person and the institution. The *history* is what the row store knows of the person before
this call: recent visits and fee lines (for holdings, frequencies, readmissions), and for a
pharmacy its stock of the billed items (进销存). A *hit* is one rule's finding.

Everything is frozen; amounts are `Decimal` yuan; nothing here knows the database. The
values a call builds by the dozen from rows (a fee line, a past visit, a past line) are named
tuples: as immutable and comparable as the frozen dataclasses, and built two to three
times faster, which settlement pays on every call with review on (docs/review.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, NamedTuple

from yibao.kit.records import quick_init

Stage = Literal["pre", "mid", "post"]
STAGES: tuple[Stage, ...] = ("pre", "mid", "post")
ResultType = Literal["violation", "suspicious"]
RESULT_TYPES: tuple[ResultType, ...] = ("violation", "suspicious")
Action = Literal["warn", "selfpay", "refuse"]
ACTIONS: tuple[Action, ...] = ("warn", "selfpay", "refuse")
Scene = Literal["outpatient", "inpatient", "pharmacy"]
SCENES: tuple[Scene, ...] = ("outpatient", "inpatient", "pharmacy")
#: the unit a category is judged (and scored) on
Unit = Literal["line", "visit", "person_window", "institution", "group"]

#: list_type codes (codes.dicts.ListType): drugs 101–105 (105: 中药配方颗粒, dispensed and
#: sold as drugs), services 201, consumables 301
DRUG_LIST_TYPES = frozenset({"101", "102", "103", "104", "105"})
SERVICE_LIST_TYPE = "201"
CONSUMABLE_LIST_TYPE = "301"


def is_inpatient_med_type(med_type: str) -> bool:
    """2x national codes, 52 (生育住院), and regional codes starting with 2."""
    return med_type.startswith("2") or med_type == "52"


@dataclass(frozen=True, slots=True)
class ItemLimits:
    """The catalog's restrictions of an item (docs/catalog.md): sex, age band (min inclusive,
    max exclusive), institution levels, med_types ("ipt"/"otp" tokens too), indication
    prefixes, longest prd_days, largest quantity per line; `child_drug` is chld_medc_flag."""

    gend: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    hosp_lv: frozenset[str] = frozenset()
    med_type: frozenset[str] = frozenset()
    diag_codes: tuple[str, ...] = ()
    max_days: Decimal | None = None
    max_cnt: Decimal | None = None
    child_drug: bool = False

    def allows_med_type(self, med_type: str) -> bool:
        if not self.med_type or med_type in self.med_type:
            return True
        inpatient = is_inpatient_med_type(med_type)
        if inpatient and "ipt" in self.med_type:
            return True
        return not inpatient and "otp" in self.med_type


NO_LIMITS = ItemLimits()


class Line(NamedTuple):
    """One fee line of the bill (2204/2301 feedetail, 2101 drugdetail, 3101 fsi_order_dtos)."""

    #: the line's id in the call: feedetl_sn, or rx_id for 3101/3102
    line_id: str
    hilist_code: str
    hilist_name: str
    cnt: Decimal
    pric: Decimal
    amount: Decimal
    fee_ocur_time: datetime
    #: None when the code is not in the catalog on the fee date (目录外)
    list_type: str | None = None
    med_chrgitm_type: str | None = None
    limits: ItemLimits = NO_LIMITS
    #: the catalog's 限价 (hilist_pric_uplmt_amt)
    pric_uplmt_amt: Decimal | None = None
    prd_days: Decimal | None = None
    hosp_appr_flag: str | None = None

    @property
    def in_catalog(self) -> bool:
        return self.list_type is not None

    @property
    def is_drug(self) -> bool:
        return self.list_type in DRUG_LIST_TYPES


@quick_init
@dataclass(frozen=True, slots=True)
class Person:
    psn_no: str
    gend: str | None
    #: whole years on the visit's date
    age: int | None
    death_date: date | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Institution:
    fixmedins_code: str
    hosp_lv: str
    #: the institution's region (the rule set is chosen by it)
    admdvs: str
    #: 综合/中医/专科 … when known (a rule's scope may name types)
    fixmedins_type: str | None = None
    pharmacy: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class Visit:
    mdtrt_id: str
    #: outpatient | inpatient | pharmacy
    scene: Scene
    med_type: str
    begntime: datetime
    endtime: datetime | None = None
    diag_codes: tuple[str, ...] = ()
    main_diag: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Bill:
    """What one call shows."""

    visit: Visit
    person: Person
    institution: Institution
    lines: tuple[Line, ...]
    #: earlier valid lines of the same visit (already uploaded), for duplicate/split/frequency
    visit_lines: tuple[Line, ...] = ()

    @property
    def day(self) -> date:
        return self.visit.begntime.date()


class PastVisit(NamedTuple):
    mdtrt_id: str
    fixmedins_code: str
    scene: Scene
    med_type: str
    begntime: datetime
    endtime: datetime | None
    main_diag: str | None = None
    #: whether a valid settlement exists (settled visits count for windows)
    settled: bool = True


class PastLine(NamedTuple):
    mdtrt_id: str
    hilist_code: str
    cnt: Decimal
    fee_ocur_time: datetime
    prd_days: Decimal | None = None


@dataclass(frozen=True, slots=True)
class History:
    """The person's recent history (other visits than this bill's), newest first or in any
    order, and the pharmacy's stock of the billed items (None: no 进销存 data)."""

    visits: tuple[PastVisit, ...] = ()
    lines: tuple[PastLine, ...] = ()
    stock: Mapping[str, Decimal] | None = None


EMPTY_HISTORY = History()


@dataclass(frozen=True, slots=True)
class Hit:
    """One rule's finding on the bill."""

    rule_id: str
    rule_version: str
    category: str
    name: str
    stage: Stage
    result_type: ResultType
    action: Action
    #: Chinese first, then English in parentheses; never a personal identifier
    reason: str
    #: the lines found (line ids of the bill); empty for a visit-level finding
    line_ids: tuple[str, ...] = ()
    threshold: str = ""
    value: str = ""
    #: the amount at stake, yuan
    amount: Decimal = Decimal(0)
    #: what was used: lines, history visits … (plain JSON-able values)
    evidence: Mapping[str, object] = field(default_factory=dict)

    @property
    def warn_line(self) -> str:
        """`<rule_id> <rule name>: <reason>` (the envelope's warn_msg line)."""
        return f"{self.rule_id} {self.name}: {self.reason}"
