"""What the self-pay patient transactions ask (4261 upload, 4262 reconcile, 4263 query of the
mismatched), parsed from the envelope's `input` by `yibao.interface.transactions.selfpay`.
Field names are the national interface's (clients send them in camelCase too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class SelfpayVisit:
    """fmiOwnpayPatnMdtrtDDTO (mdtrtinfo): the visit."""

    mdtrt_id: str
    psn_name: str
    psn_cert_type: str | None
    certno: str | None
    gend: str | None
    brdy: str | None
    med_type: str
    ipt_otp_no: str | None
    begntime: datetime
    endtime: datetime | None
    dise_no: str | None
    dise_name: str | None
    chfpdr_code: str | None
    chfpdr_name: str | None
    #: the visit's total as the institution states it (provisional field); when given it must
    #: equal the sum of the fee details
    medfee_sumamt: Decimal | None


@dataclass(frozen=True, slots=True)
class SelfpayDiagnosis:
    """fmiOwnpayPatnDiseListDDTOS (diseinfo): one diagnosis."""

    diag_srt_no: int
    diag_info_id: str | None
    inout_diag_type: str | None
    diag_type: str | None
    maindiag_flag: str
    diag_code: str
    diag_name: str
    diag_dept: str | None
    diag_dr_code: str | None
    diag_dr_name: str | None
    diag_time: datetime | None


@dataclass(frozen=True, slots=True)
class SelfpayFee:
    """fmiOwnpayPatnFeeListDDTO (feedetail): one fee detail."""

    bkkp_sn: str
    fee_ocur_time: datetime
    med_list_codg: str | None
    medins_list_codg: str
    medins_list_name: str | None
    med_chrgitm_type: str | None
    prodname: str | None
    cnt: Decimal
    pric: Decimal
    det_item_fee_sumamt: Decimal
    bilg_dept_codg: str | None
    bilg_dept_name: str | None
    bilg_dr_codg: str | None
    bilg_dr_name: str | None


@dataclass(frozen=True, slots=True)
class SelfpayUpload:
    """4261 自费病人就医信息上传: one visit with its diagnoses and fee details."""

    visit: SelfpayVisit
    diagnoses: tuple[SelfpayDiagnosis, ...]
    fees: tuple[SelfpayFee, ...]
    #: upType as sent ("0" first upload, "1" upload again); either replaces a stored visit
    up_type: str | None


@dataclass(frozen=True, slots=True)
class SelfpayReconcile:
    """4262 自费病人就诊信息对账: the institution's total of one uploaded visit."""

    mdtrt_id: str
    total_fee_sumamt: Decimal


@dataclass(frozen=True, slots=True)
class SelfpayPeriodReconcile:
    """4262 over a period (provisional form): the institution's count and total of the
    visits it uploaded that began from `stmt_begndate` through `stmt_enddate`."""

    stmt_begndate: date
    stmt_enddate: date
    fixmedins_mdtrt_cnt: int
    total_fee_sumamt: Decimal


@dataclass(frozen=True, slots=True)
class SelfpayMismatchQuery:
    """4263 零报金额不符信息查询: the institution's visits whose last 4262 did not match."""

    mdtrt_id: str | None
    certno: str | None
    page_num: int
    page_size: int
