"""The catalog's plain data: items, their restrictions, code-catalog entries.

Pure (standard library, kit, codes): the settlement calculator and the risk rules read these
without a database. `yibao.catalog.repo` builds them from rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from yibao.codes.dicts import ChrgitmLv, Flag, MedType

#: Tokens allowed in `Restrictions.med_type` besides med_type codes.
MED_TYPE_INPATIENT = "ipt"
MED_TYPE_OUTPATIENT = "otp"


def is_inpatient_med_type(med_type: str) -> bool:
    """Whether a med_type is an inpatient one: 2x national codes, 52, and regional codes
    starting with 2 (e.g. Hunan's 2101)."""
    if MedType.has(med_type):
        return MedType(med_type).is_inpatient
    return med_type.startswith("2")


#: the empty set of a restriction's set fields
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Restrictions:
    """What limits an item's reimbursement (限定支付范围). Empty fields restrict nothing.

    - `gend`: the only sex allowed ("1" male, "2" female).
    - `age_min` (inclusive) and `age_max` (exclusive), whole years: 儿童 "< 14" is age_max 14.
    - `hosp_lv`: the institution levels allowed ("1", "2", "3").
    - `med_type`: the med_type codes allowed, or the tokens "ipt" (every inpatient type) and
      "otp" (every other type).
    - `diag_codes`: indications — a visit qualifies when one of its diagnosis codes starts with
      one of these ICD-10 prefixes ("E11" covers "E11.900").
    - `max_days`: the longest `prd_days` one fee line may cover.
    - `max_cnt`: the largest quantity one fee line may carry.
    """

    gend: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    hosp_lv: frozenset[str] = frozenset()
    med_type: frozenset[str] = frozenset()
    diag_codes: tuple[str, ...] = ()
    max_days: Decimal | None = None
    max_cnt: Decimal | None = None

    @property
    def empty(self) -> bool:
        # field by field: the same as `self == _NO_RESTRICTIONS` without the two tuples the
        # dataclass's __eq__ builds (asked for every billed line)
        return (
            self.gend is None
            and self.age_min is None
            and self.age_max is None
            and self.hosp_lv == _NONE
            and self.med_type == _NONE
            and self.diag_codes == ()
            and self.max_days is None
            and self.max_cnt is None
        )

    def allows_med_type(self, med_type: str) -> bool:
        if not self.med_type or med_type in self.med_type:
            return True
        inpatient = is_inpatient_med_type(med_type)
        if inpatient and MED_TYPE_INPATIENT in self.med_type:
            return True
        return not inpatient and MED_TYPE_OUTPATIENT in self.med_type

    def allows_diagnoses(self, diag_codes: tuple[str, ...] | list[str] | set[str]) -> bool:
        if not self.diag_codes:
            return True
        return any(
            code.upper().startswith(p.upper()) for code in diag_codes for p in self.diag_codes
        )


_NO_RESTRICTIONS = Restrictions()


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """One term of a national catalog item (医保目录): valid from `begndate` to `enddate`
    (inclusive; None = open-ended), as introduced by catalog version `version_id`."""

    hilist_code: str
    hilist_name: str
    list_type: str
    chrgitm_lv: str
    selfpay_prop: Decimal
    begndate: date
    enddate: date | None = None
    med_chrgitm_type: str | None = None
    #: person types whose self-pay ratio differs: (psn_type, ratio) pairs
    selfpay_prop_psn: tuple[tuple[str, Decimal], ...] = ()
    #: 限价: the highest unit price the fund recognises (N16,6); None = no cap
    hilist_pric_uplmt_amt: Decimal | None = None
    lmt_used_flag: str = Flag.NO.value
    prcunt: str | None = None
    spec: str | None = None
    dosform_name: str | None = None
    prodentp_name: str | None = None
    bas_medn_flag: str = Flag.NO.value
    hi_nego_drug_flag: str = Flag.NO.value
    chld_medc_flag: str = Flag.NO.value
    list_sp_item_flag: str = Flag.NO.value
    drt_reim_flag: str = Flag.NO.value
    restrictions: Restrictions = field(default_factory=Restrictions)
    memo: str | None = None
    wubi: str | None = None
    pinyin: str | None = None
    item_id: int = 0
    version_id: int = 0

    def valid_on(self, day: date) -> bool:
        return self.begndate <= day and (self.enddate is None or day <= self.enddate)

    def selfpay_prop_for(self, psn_type: str | None) -> Decimal:
        """The self-pay ratio for a person type (the item's own ratio unless it differs)."""
        if psn_type is not None:
            for psn, ratio in self.selfpay_prop_psn:
                if psn == psn_type:
                    return ratio
        return self.selfpay_prop

    @property
    def level(self) -> ChrgitmLv:
        return ChrgitmLv(self.chrgitm_lv)

    @property
    def flags(self) -> str:
        """The six catalog flags as the fee_detail.flags column stores them: lmt_used,
        bas_medn, hi_nego_drug, chld_medc, list_sp_item, drt_reim."""
        return (
            self.lmt_used_flag
            + self.bas_medn_flag
            + self.hi_nego_drug_flag
            + self.chld_medc_flag
            + self.list_sp_item_flag
            + self.drt_reim_flag
        )


@dataclass(frozen=True, slots=True)
class DiseEntry:
    """One term of a code catalog: a diagnosis, operation, 门慢特病种, 按病种 or 日间手术 code."""

    catalog_kind: str
    dise_codg: str
    dise_name: str
    begndate: date
    enddate: date | None = None
    #: the only sex a diagnosis applies to (e.g. O codes: "2"); None = either
    lmt_gend: str | None = None
    memo: str | None = None
    dise_id: int = 0
    version_id: int = 0

    def valid_on(self, day: date) -> bool:
        return self.begndate <= day and (self.enddate is None or day <= self.enddate)
