"""What the lookup transactions ask (1201, 1901, 2001, 5202, 5205, 5206), parsed from the
envelope's `input` by their handlers (`yibao.interface.transactions.lookups`). Field names are
the national interface's; paging fields (`page_num`, `page_size`) are provisional."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from yibao.codes.dicts import Insutype, MedType


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a list answer: `page_num` from 1; `page_size` None = every row (up to the
    service's limit)."""

    page_num: int = 1
    page_size: int | None = None


@dataclass(frozen=True, slots=True)
class InstitutionQuery:
    """1201 医药机构信息获取: designated institutions by code, name (part of it) or type.
    `fixmedins_type` is the national 1 定点医疗机构 / 2 定点零售药店 (or a local kind)."""

    fixmedins_type: str | None = None
    fixmedins_name: str | None = None
    fixmedins_code: str | None = None
    page: Page = Page()


@dataclass(frozen=True, slots=True)
class DictionaryQuery:
    """1901 字典表查询: the values of dictionary `type` (a national field name), optionally the
    children of `parent_value`, as valid on `date`."""

    type: str
    parent_value: str | None = None
    admdvs: str | None = None
    date: date | None = None
    vali_flag: str | None = None
    page: Page = Page()


@dataclass(frozen=True, slots=True)
class EntitlementCheck:
    """2001 人员待遇享受检查: may the person be settled under `insutype` and `med_type` at
    `begntime` (the call's time when absent)?"""

    psn_no: str
    insutype: Insutype
    med_type: MedType
    fixmedins_code: str | None = None
    begntime: datetime | None = None
    endtime: datetime | None = None
    dise_codg: str | None = None
    dise_name: str | None = None
    oprn_oprt_code: str | None = None
    oprn_oprt_name: str | None = None
    matn_type: str | None = None
    birctrl_type: str | None = None


@dataclass(frozen=True, slots=True)
class DiagnosisQuery:
    """5202 诊断信息查询: the diagnoses of one of the calling institution's visits."""

    psn_no: str
    mdtrt_id: str


@dataclass(frozen=True, slots=True)
class ChronicDrugQuery:
    """5205 慢特病用药记录查询: the person's settled drug lines of 门诊慢特病 visits at the
    calling institution whose fee time falls in `begntime`..`endtime`."""

    psn_no: str
    begntime: datetime
    endtime: datetime


@dataclass(frozen=True, slots=True)
class AccumulatorQuery:
    """5206 人员累计信息查询: the person's annual accumulators of the year of `cum_ym`
    (yyyyMM; the call's year when absent)."""

    psn_no: str
    year: int
    cum_ym: str | None = None
