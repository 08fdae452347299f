"""What the catalog transactions ask, parsed from the envelope's `input` by their handlers
(`yibao.interface.transactions.catalog`). Field names are the national interface's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CatalogDownload:
    """13xx 目录下载: the catalog named by `infno`, rows changed after the client's `ver`."""

    infno: str
    #: the client's catalog version number; 0 (also for "0" or a label that is not a number)
    #: asks for every effective row
    ver: int


@dataclass(frozen=True, slots=True)
class CatalogItemQuery:
    """1312 医保目录信息查询: one page of catalog items matching the filters."""

    updt_time: datetime
    page_num: int
    page_size: int
    vali_flag: str
    hilist_code: str | None = None
    list_type: str | None = None
    med_chrgitm_type: str | None = None
    chrgitm_lv: str | None = None
    lmt_used_flag: str | None = None
    hilist_name: str | None = None
    wubi: str | None = None
    pinyin: str | None = None
    begndate: date | None = None
    query_date: date | None = None
    insu_admdvs: str | None = None


@dataclass(frozen=True, slots=True)
class MappingUploadRow:
    """One `data` row of 3301 目录对照上传."""

    fixmedins_hilist_id: str
    fixmedins_hilist_name: str
    med_list_codg: str
    list_type: str | None
    begndate: date | None
    enddate: date | None
    #: the optional descriptive fields (aprvno, dosform, spec …) kept with the mapping
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: the institution the row names, when it names one (must be the caller's own)
    fixmedins_code: str | None = None


@dataclass(frozen=True, slots=True)
class MappingUpload:
    """3301 目录对照上传."""

    data: tuple[MappingUploadRow, ...]


@dataclass(frozen=True, slots=True)
class MappingCancel:
    """3302 目录对照撤销."""

    #: the institution the client names (must be the caller's own when given)
    fixmedins_code: str | None
    fixmedins_hilist_id: str
    med_list_codg: str | None
