"""What the filing transactions ask (2501/2502 转院备案 and undo, 2503/2504 人员慢特病备案 and
undo, 2699 生育备案, and the queries 5301–5304), parsed from `input` by their handlers
(`yibao.interface.transactions.filings`). Field names are the national interface's; fields
marked provisional in docs/interface/filings.md were not found in public client code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class FileTransfer:
    """2501 转院备案 (node `refmedin`)."""

    psn_no: str
    insutype: str | None
    diag_code: str
    diag_name: str
    reflin_medins_no: str | None
    reflin_medins_name: str
    refl_date: date | None
    begndate: date
    enddate: date | None
    tel: str | None = None
    addr: str | None = None
    insu_optins: str | None = None
    dise_cond_dscr: str | None = None
    mdtrt_area_admdvs: str | None = None
    hosp_agre_refl_flag: str | None = None
    refl_type: str | None = None
    refl_rea: str | None = None
    refl_opnn: str | None = None
    memo: str | None = None


@dataclass(frozen=True, slots=True)
class FileChronic:
    """2503 人员慢特病备案 (node `data`)."""

    psn_no: str
    insutype: str | None
    opsp_dise_code: str
    opsp_dise_name: str
    begndate: date
    enddate: date | None
    ide_fixmedins_no: str | None = None
    ide_fixmedins_name: str | None = None
    hosp_ide_date: date | None = None
    diag_dr_codg: str | None = None
    diag_dr_name: str | None = None
    tel: str | None = None
    addr: str | None = None
    insu_optins: str | None = None


@dataclass(frozen=True, slots=True)
class FileMaternity:
    """2699 生育备案申请 (node `data`; provisional shape)."""

    psn_no: str
    insutype: str | None
    begndate: date
    enddate: date | None
    #: 末次月经日期 / 预产期 / 孕周数 / 胎次
    last_mena_date: date | None = None
    plan_dlv_date: date | None = None
    geso_val: int | None = None
    fetts: int | None = None
    tel: str | None = None
    addr: str | None = None
    memo: str | None = None


@dataclass(frozen=True, slots=True)
class UndoFiling:
    """2502 / 2504: undo a filing by its 待遇申报明细流水号."""

    trt_dcla_detl_sn: str
    psn_no: str
    memo: str | None = None


@dataclass(frozen=True, slots=True)
class PersonFilingQuery:
    """5301 慢特病备案查询 / 5302 人员定点信息查询 (`biz_appy_type` filters 5302)."""

    psn_no: str
    biz_appy_type: str | None = None


@dataclass(frozen=True, slots=True)
class PeriodQuery:
    """5303 在院信息查询 / 5304 转院信息查询: the person's records in a period (both optional)."""

    psn_no: str
    begntime: datetime | None = None
    endtime: datetime | None = None
