"""Inputs and outputs of the pure settlement calculator.

Everything here is plain, frozen data. Amounts are ``Decimal`` yuan with two decimals
(fen-exact); unit prices and quantities are ``Decimal`` as the interface carries them; ratios
are ``Decimal`` in [0, 1]. Flags in results are ``bool``; the interface layer writes them as
"0"/"1" (see :func:`flag`).

Negative amounts appear only in two places: refund fee lines (``cnt < 0``, inpatient 2301
refunds), whose split is the negated split of the positive line, and reversal records made by
:func:`yibao.policy.negate`. Bill totals net refund lines against the lines they refund.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from yibao.codes.dicts import (
    ChrgitmLv,
    FundPayType,
    HospApprFlag,
    HospLv,
    Insutype,
    ListType,
    MedChrgitmType,
    MedType,
    PsnIdetType,
    PsnType,
)
from yibao.kit.records import quick_init

ZERO = Decimal("0.00")

#: Annual per-person running totals (one map per person, insurance type and calendar year of
#: ``setl_date``). A missing key counts as 0. The key set is open: the calculator reads and
#: returns the keys listed in :class:`AccKey` plus counter-named keys chosen by the parameter
#: files (``<counter>.dedc_used`` …); storage must keep every key it is given.
Accumulators = Mapping[str, Decimal]


class AccKey:
    """The accumulator keys. ``<c>`` is a counter name chosen by the parameter file
    (demo region: ``otp`` outpatient, ``otp_basic`` residents' outpatient at level 1 and
    below, ``ipt`` inpatient, ``mtb`` chronic/special outpatient, ``pharmacy``)."""

    @staticmethod
    def dedc_used(counter: str) -> str:
        """Annual deductible consumed on that counter (annual-deductible visit classes)."""
        return f"{counter}.dedc_used"

    @staticmethod
    def inscp(counter: str) -> str:
        """Cumulative in-scope amount on that counter: the axis the pool's bands are read on."""
        return f"{counter}.inscp"

    @staticmethod
    def pool_paid(counter: str) -> str:
        """Basic pooled fund (hifp_pay) paid on that counter: what the pool cap limits."""
        return f"{counter}.pool_paid"

    #: Inpatient admissions settled this year (first admission vs later ones).
    IPT_ADMISSIONS = "ipt.admissions"
    #: Employee top-up fund (大额医疗费用补助, hifob_pay) paid this year.
    HIFOB_PAID = "hifob.paid"
    #: Residents' 大病保险: cumulative in-scope self-pay counted toward its deductible.
    HIFMI_BASE = "hifmi.base"
    #: Residents' 大病保险 (hifmi_pay) paid this year.
    HIFMI_PAID = "hifmi.paid"
    #: Civil-servant subsidy (cvlserv_pay) paid this year.
    CVLSERV_PAID = "cvlserv.paid"
    #: Medical assistance: cumulative in-scope self-pay counted toward its deductible.
    MAF_BASE = "maf.base"
    #: Medical assistance (maf_pay) paid this year.
    MAF_PAID = "maf.paid"


class PolicyRefusal(ValueError):
    """The bill cannot be settled under the policy (unknown code where the region refuses it,
    an inconsistent line, no parameters for the person/visit). The message is Chinese first,
    then English in parentheses; ``feedetl_sn`` names the offending line when there is one,
    ``field`` the offending field."""

    def __init__(self, message: str, *, feedetl_sn: str | None = None, field: str | None = None):
        super().__init__(message)
        self.feedetl_sn = feedetl_sn
        self.field = field


class PolicyFileError(ValueError):
    """A parameter file is malformed; the message names the file, the key and the rule."""


# --------------------------------------------------------------------------- inputs


@quick_init
@dataclass(frozen=True, slots=True)
class CatalogTerms:
    """What the catalog says of the national code valid at ``fee_ocur_time``."""

    hilist_code: str
    hilist_name: str
    list_type: ListType
    chrgitm_lv: ChrgitmLv
    med_chrgitm_type: MedChrgitmType
    #: 先行自付比例 already chosen for the person's type (0 for 甲类).
    selfpay_prop: Decimal
    #: Price cap per unit (hilist_pric_uplmt_amt); None (or 0) = no cap.
    pric_uplmt_amt: Decimal | None
    #: 限制使用标志: the fund pays only when the hospital approved the use (hosp_appr_flag 1).
    lmt_used_flag: bool
    bas_medn_flag: bool = False
    hi_nego_drug_flag: bool = False
    chld_medc_flag: bool = False
    list_sp_item_flag: bool = False
    drt_reim_flag: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class FeeLineIn:
    """One uploaded fee line (2204/2301 feedetail, 2101/2102 drugdetail)."""

    feedetl_sn: str
    det_item_fee_sumamt: Decimal
    cnt: Decimal
    pric: Decimal
    #: None = the national code is unknown to the catalog → the region's ``unknown_code`` rule.
    terms: CatalogTerms | None
    hosp_appr_flag: HospApprFlag = HospApprFlag.NOT_REQUIRED
    #: Set by the caller when a catalog restriction (sex, age, institution level, visit type)
    #: is broken or the local code has no approved mapping: the line is fully self-paid and
    #: this text becomes its ``memo``.
    selfpay_reason: str | None = None
    #: The code as uploaded (med_list_codg), for messages about unknown codes.
    med_list_codg: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class PersonTerms:
    psn_no: str
    insutype: Insutype
    psn_type: PsnType
    #: Whole years on the settlement date.
    age: int
    #: Eligible assistance identities valid on the settlement date (idetinfo).
    assistance: tuple[PsnIdetType, ...] = ()
    #: Own personal-account balance before this settlement.
    balc: Decimal = ZERO
    #: Balance of the family member's account that may share (家庭共济); 0 if none.
    family_balc: Decimal = ZERO
    cvlserv_flag: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class VisitTerms:
    med_type: MedType
    hosp_lv: HospLv
    #: The person's pooling region (insuplc_admdvs); selects the parameter file.
    admdvs: str
    setl_date: date
    acct_used_flag: bool = True
    #: Inpatient only: this settlement continues an admission already partly settled
    #: (中途结算): no new deductible and the admission is not counted again.
    same_admission_settled: bool = False
    #: 异地就医 without a registration where the insured region settles it at its lower
    #: 未备案 ratio: the pool's ratios drop by this much (a fraction, floored at 0).
    ratio_cut: Decimal = Decimal(0)


# --------------------------------------------------------------------------- outputs


@quick_init
@dataclass(frozen=True, slots=True)
class LineSplit:
    """The 2204/2301 result row (also 2101/2102 ``detlcutinfo``). Flags are bool."""

    feedetl_sn: str
    det_item_fee_sumamt: Decimal
    cnt: Decimal
    pric: Decimal
    pric_uplmt_amt: Decimal | None
    selfpay_prop: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_amt: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    #: 丙类 (03) for codes unknown to the catalog.
    chrgitm_lv: ChrgitmLv
    #: 14 其他费 for codes unknown to the catalog.
    med_chrgitm_type: MedChrgitmType
    #: None for codes unknown to the catalog.
    list_type: ListType | None
    lmt_used_flag: bool
    bas_medn_flag: bool
    hi_nego_drug_flag: bool
    chld_medc_flag: bool
    list_sp_item_flag: bool
    drt_reim_flag: bool
    #: 明细分割信息: why (part of) the line is self-paid; None when nothing to say.
    memo: str | None
    hilist_code: str | None = None
    hilist_name: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class FundDetail:
    """One setldetail row."""

    fund_pay_type: FundPayType
    #: The in-scope amount this fund worked on.
    inscp_scp_amt: Decimal
    #: 本次可支付限额: what the fund could still pay before this settlement (None = no cap).
    crt_payb_lmt_amt: Decimal | None
    fund_payamt: Decimal
    setl_proc_info: str | None = None

    @property
    def fund_pay_type_name(self) -> str:
        return self.fund_pay_type.label


def _frozen_map(values: Mapping[str, Decimal] | None = None) -> Mapping[str, Decimal]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class SettlementSplit:
    """Every setlinfo amount, the fund rows, the line rows and the accumulator delta."""

    medfee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_selfpay: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    act_pay_dedc: Decimal
    hifp_pay: Decimal
    #: 统筹支付比例: the nominal pool ratio of the band the bill's pooled segment starts in
    #: (0 when the pool pays nothing). A ratio, never negated.
    pool_prop_selfpay: Decimal
    cvlserv_pay: Decimal
    hifes_pay: Decimal
    hifmi_pay: Decimal
    hifob_pay: Decimal
    maf_pay: Decimal
    oth_pay: Decimal
    hifdm_pay: Decimal
    fund_pay_sumamt: Decimal
    psn_part_amt: Decimal
    acct_pay: Decimal
    psn_cash_pay: Decimal
    hosp_part_amt: Decimal
    #: Family-sharing part of ``acct_pay`` (paid from ``family_balc``).
    acct_mulaid_pay: Decimal
    #: Own account balance after the settlement.
    balc: Decimal
    #: Family member's account balance after the settlement.
    family_balc: Decimal
    setldetail: tuple[FundDetail, ...]
    lines: tuple[LineSplit, ...]
    #: What to add to the accumulators; adding ``negate(split).accumulator_delta`` undoes it.
    accumulator_delta: Mapping[str, Decimal] = field(default_factory=_frozen_map)
    #: Which parameters were applied, e.g. ``110199@2024-01-01#emp-in-service-otp``.
    policy_version: str = ""
    #: outpatient | inpatient | pharmacy | chronic_outpatient
    visit_class: str = ""


def flag(value: bool) -> str:
    """A bool flag as the interface writes it ("1"/"0")."""
    return "1" if value else "0"
