"""The settlement transactions' inputs, read and checked: what a handler in
`yibao.interface.transactions` parses the envelope's `input` into, once, before it calls a
settlement service. Field names are the national interface's (定点医药机构接口规范); a field
the transaction reads only on one path (the echoed totals of 2207/2304, 2207's med_type) is
optional here and required by the service at the point the rule applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from yibao.codes.dicts import HospApprFlag, MdtrtCertType
from yibao.errors import InvalidInput
from yibao.kit.records import quick_init


def required(value: Any, where: str) -> Any:
    """`value`, refused like a missing required field when it is None."""
    if value is None:
        raise InvalidInput(f"{where}: 必填 (required)")
    return value


@quick_init
@dataclass(frozen=True, slots=True)
class FeeLine:
    """One uploaded fee line (feedetail of 2204/2301, drugdetail of 2101/2102)."""

    #: position in the message (refusals name `feedetail[index]`)
    index: int
    feedetl_sn: str
    mdtrt_id: str | None
    psn_no: str | None
    chrg_bchno: str | None
    fee_ocur_time: datetime
    med_list_codg: str
    medins_list_codg: str | None
    det_item_fee_sumamt: Decimal
    cnt: Decimal
    pric: Decimal
    hosp_appr_flag: HospApprFlag
    init_feedetl_sn: str | None
    #: the descriptive columns stored as sent (rxno, bilg_dept_codg, prd_days …)
    values: dict[str, Any]


@quick_init
@dataclass(frozen=True, slots=True)
class UploadFees:
    """2204 门诊费用明细上传 / 2301 住院费用明细上传."""

    feedetail: tuple[FeeLine, ...]


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One diseinfo row (2203, 2401, 2402, 2403)."""

    diag_srt_no: int
    diag_type: str
    maindiag_flag: str
    diag_code: str
    diag_name: str
    diag_dept: str | None
    dise_dor_no: str | None
    dise_dor_name: str | None
    diag_time: datetime | None

    def row(self) -> dict[str, Any]:
        """The diag columns it fills."""
        return {
            "diag_srt_no": self.diag_srt_no,
            "diag_type": self.diag_type,
            "maindiag_flag": self.maindiag_flag,
            "diag_code": self.diag_code,
            "diag_name": self.diag_name,
            "diag_dept": self.diag_dept,
            "dise_dor_no": self.dise_dor_no,
            "dise_dor_name": self.dise_dor_name,
            "diag_time": self.diag_time,
        }


def main_diagnosis(diseinfo: tuple[Diagnosis, ...]) -> Diagnosis | None:
    return next((d for d in diseinfo if d.maindiag_flag == "1"), None)


@dataclass(frozen=True, slots=True)
class VisitRef:
    """A visit named by the institution (2202 挂号撤销, 2404 入院撤销, 2405 出院撤销)."""

    mdtrt_id: str
    psn_no: str


@quick_init
@dataclass(frozen=True, slots=True)
class Register:
    """2201 门诊挂号."""

    psn_no: str
    insutype: str
    begntime: datetime
    mdtrt_cert_type: MdtrtCertType
    mdtrt_cert_no: str
    ipt_otp_no: str
    med_type: str | None
    atddr_no: str | None
    dr_name: str | None
    dept_code: str | None
    dept_name: str | None
    caty: str | None


@dataclass(frozen=True, slots=True)
class UploadVisitInfo:
    """2203/2203A 门诊就诊信息上传."""

    mdtrt_id: str
    psn_no: str
    med_type: str
    begntime: datetime | None
    main_cond_dscr: str | None
    dise_codg: str | None
    dise_name: str | None
    diseinfo: tuple[Diagnosis, ...]


@dataclass(frozen=True, slots=True)
class CancelFees:
    """2205 门诊费用明细撤销: one charge batch, or every unsettled line ("0000")."""

    mdtrt_id: str
    psn_no: str
    chrg_bchno: str


@dataclass(frozen=True, slots=True)
class CancelInpatientFees:
    """2302 住院费用明细撤销: the named lines of one admission ("0000" among them: all)."""

    mdtrt_id: str
    psn_no: str
    feedetl_sns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Admit:
    """2401 入院办理 (mdtrtinfo + diseinfo)."""

    psn_no: str
    insutype: str
    begntime: datetime
    mdtrt_cert_type: MdtrtCertType
    mdtrt_cert_no: str
    med_type: str
    ipt_no: str
    atddr_no: str | None
    chfpdr_name: str | None
    adm_dept_codg: str | None
    adm_dept_name: str | None
    adm_bed: str | None
    #: main_cond_dscr, else adm_diag_dscr
    main_cond_dscr: str | None
    dise_codg: str | None
    dise_name: str | None
    #: the main diagnosis of diseinfo, else dscg_maindiag_code / dscg_maindiag_name
    maindiag_code: str | None
    maindiag_name: str | None
    diseinfo: tuple[Diagnosis, ...]


@dataclass(frozen=True, slots=True)
class Discharge:
    """2402 出院办理 (dscginfo + diseinfo)."""

    mdtrt_id: str
    psn_no: str
    endtime: datetime
    dscg_way: str
    dise_codg: str | None
    #: read only when dise_codg is sent
    dise_name: str | None
    diseinfo: tuple[Diagnosis, ...]


@dataclass(frozen=True, slots=True)
class ChangeAdmission:
    """2403 住院信息变更 (provisional shape: adminfo + optional diseinfo)."""

    mdtrt_id: str
    psn_no: str
    med_type: str | None
    adm_bed: str | None
    adm_dept_codg: str | None
    adm_dept_name: str | None
    atddr_no: str | None
    chfpdr_name: str | None
    main_cond_dscr: str | None
    dise_codg: str | None
    dise_name: str | None
    ipt_no: str | None
    begntime: datetime | None
    diseinfo: tuple[Diagnosis, ...]


#: the totals a client echoes from its pre-settlement into 2207/2304
ECHOED_TOTALS = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")


@quick_init
@dataclass(frozen=True, slots=True)
class Settle:
    """2206/2207 门诊(预)结算, 2303/2304 住院(预)结算."""

    psn_no: str
    mdtrt_id: str
    medfee_sumamt: Decimal
    insutype: str
    acct_used_flag: bool
    mdtrt_cert_type: str | None
    invono: str | None
    #: required for an outpatient visit; an admission defaults to the visit's
    med_type: str | None
    #: outpatient: the charge batch to settle (None or "0000": every unsettled line)
    chrg_bchno: str | None = None
    #: inpatient: an interim settlement (中途结算) before discharge
    mid_setl_flag: bool = False
    #: 2207/2304 echo these four totals of their pre-settlement (None: not sent)
    fulamt_ownpay_amt: Decimal | None = None
    overlmt_selfpay: Decimal | None = None
    preselfpay_amt: Decimal | None = None
    inscp_scp_amt: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ReverseSettlement:
    """2208 门诊结算撤销, 2305 住院结算撤销, 2103 药店结算撤销."""

    setl_id: str
    mdtrt_id: str
    psn_no: str


@dataclass(frozen=True, slots=True)
class SettlePharmacy:
    """2101 药店预结算 / 2102 药店结算 (druginfo + drugdetail)."""

    psn_no: str
    mdtrt_cert_type: MdtrtCertType
    mdtrt_cert_no: str | None
    medfee_sumamt: Decimal
    insutype: str
    acct_used_flag: bool
    med_type: str
    begntime: datetime | None
    invono: str | None
    dise_codg: str | None
    dise_name: str | None
    drugdetail: tuple[FeeLine, ...]


@dataclass(frozen=True, slots=True)
class Revoke:
    """2601 冲正交易: undo the effect of the institution's message `omsgid`."""

    psn_no: str
    omsgid: str
    oinfno: str


@dataclass(frozen=True, slots=True)
class FindPerson:
    """1101 人员信息获取: the person a 就诊凭证 names."""

    mdtrt_cert_type: MdtrtCertType
    mdtrt_cert_no: str
    #: read for a social-security card (03) only
    card_sn: str | None
    psn_name: str | None
