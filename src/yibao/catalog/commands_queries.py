"""What the paged catalog queries ask (1304, 1316–1319), parsed from the envelope's `input` by
`yibao.interface.transactions.catalog_queries`. Field names are the national interface's
(public client code: `Input_1304.cs` … `Input_1319.cs`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class PageRequest:
    """The paging fields every catalog query carries, as 1312 does."""

    #: rows changed at or after this time
    updt_time: datetime
    page_num: int
    page_size: int
    #: "1" effective rows, "0" the others
    vali_flag: str

    @property
    def offset(self) -> int:
        return (self.page_num - 1) * self.page_size


@dataclass(frozen=True, slots=True)
class EthnicDrugQuery:
    """1304 民族药品目录查询."""

    page: PageRequest
    med_list_codg: str | None = None
    #: drug_prodname or drug_genname: matched within the item's name
    name: str | None = None


@dataclass(frozen=True, slots=True)
class MedListMatchQuery:
    """1316 医疗目录与医保目录匹配信息查询."""

    page: PageRequest
    query_date: date | None = None
    #: the caller's own code: the national code its approved 目录对照 points to
    medins_list_codg: str | None = None
    hilist_code: str | None = None
    list_type: str | None = None
    insu_admdvs: str | None = None
    begndate: date | None = None


@dataclass(frozen=True, slots=True)
class InstitutionMatchQuery:
    """1317 医药机构目录匹配信息查询: the caller's own 目录对照 rows."""

    page: PageRequest
    query_date: date | None = None
    medins_list_codg: str | None = None
    medins_list_name: str | None = None
    insu_admdvs: str | None = None
    list_type: str | None = None
    #: the national code (医疗目录编码)
    med_list_codg: str | None = None
    begndate: date | None = None


@dataclass(frozen=True, slots=True)
class PriceCapQuery:
    """1318 医保目录限价信息查询."""

    page: PageRequest
    query_date: date | None = None
    hilist_code: str | None = None
    hilist_lmtpric_type: str | None = None
    overlmt_dspo_way: str | None = None
    insu_admdvs: str | None = None
    begndate: date | None = None
    enddate: date | None = None


@dataclass(frozen=True, slots=True)
class SelfpayRatioQuery:
    """1319 医保目录先自付比例信息查询."""

    page: PageRequest
    query_date: date | None = None
    hilist_code: str | None = None
    selfpay_prop_psn_type: str | None = None
    selfpay_prop_type: str | None = None
    insu_admdvs: str | None = None
    begndate: date | None = None
    enddate: date | None = None
