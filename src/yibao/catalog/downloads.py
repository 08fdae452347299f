"""Catalog downloads (1301–1321): a zip of the catalog's rows changed after the client's
version, kept for the calling institution to fetch with 9102.

The zip holds one UTF-8 text file, tab-separated, one row per line, no header, columns as
`ITEM_COLUMNS` / `DISE_COLUMNS` say — a provisional format (reference/nhsa-interface.md marks
the real one unverified), documented in docs/catalog.md. `settlement.reconcile` serves 9102 from
`file_store`; `fetch_download` here does the same for other callers.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, RowMapping

from yibao.catalog.commands import CatalogDownload
from yibao.catalog.repo import head_ver_no, published
from yibao.errors import Forbidden, InvalidInput, NotFound
from yibao.kit.clock import fmt_datetime
from yibao.kit.ids import IdGenerator

#: How long a generated download stays fetchable through 9102.
DOWNLOAD_TTL = timedelta(hours=24)

#: infno → (catalog kind, list type, name). 1304 民族药 is a paged query, not a download
#: (`catalog.queries`).
DOWNLOADS: dict[str, tuple[str, str | None, str]] = {
    "1301": ("hilist", "101", "西药中成药目录"),
    "1302": ("hilist", "102", "中药饮片目录"),
    "1303": ("hilist", "103", "医疗机构制剂目录"),
    "1305": ("hilist", "201", "医疗服务项目目录"),
    "1306": ("hilist", "301", "医用耗材目录"),
    "1307": ("diagnosis", None, "疾病与诊断目录"),
    "1308": ("operation", None, "手术操作目录"),
    "1309": ("chronic_disease", None, "门诊慢特病种目录"),
    "1310": ("disease_payment", None, "按病种付费病种目录"),
    "1311": ("day_surgery", None, "日间手术治疗病种目录"),
    "1313": ("tumour_morphology", None, "肿瘤形态学目录"),
    "1314": ("tcm_disease", None, "中医疾病目录"),
    "1315": ("tcm_syndrome", None, "中医证候目录"),
    "1320": ("hilist", "105", "中药配方颗粒目录"),
    "1321": ("hilist", "201", "医疗服务项目目录(新)"),
}

ITEM_COLUMNS: tuple[str, ...] = (
    "hilist_code",
    "hilist_name",
    "list_type",
    "med_chrgitm_type",
    "chrgitm_lv",
    "selfpay_prop",
    "hilist_pric_uplmt_amt",
    "prcunt",
    "spec",
    "dosform_name",
    "prodentp_name",
    "lmt_used_flag",
    "memo",
    "bas_medn_flag",
    "hi_nego_drug_flag",
    "chld_medc_flag",
    "selfpay_prop_psn",
    "lmt_gend",
    "lmt_age_min",
    "lmt_age_max",
    "lmt_hosp_lv",
    "lmt_med_type",
    "lmt_diag_codes",
    "lmt_days",
    "lmt_cnt",
    "begndate",
    "enddate",
    "vali_flag",
    "rid",
    "ver",
)
DISE_COLUMNS: tuple[str, ...] = (
    "dise_codg",
    "dise_name",
    "catalog_kind",
    "lmt_gend",
    "memo",
    "begndate",
    "enddate",
    "vali_flag",
    "rid",
    "ver",
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _zip(name: str, lines: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"))
    return buffer.getvalue()


def _lines(rows: list[RowMapping], columns: tuple[str, ...], rid: str) -> list[str]:
    return [
        "\t".join(
            _cell(row[rid] if c == "rid" else row["ver_no"] if c == "ver" else row[c])
            for c in columns
        )
        for row in rows
    ]


def download(
    conn: Connection,
    cmd: CatalogDownload,
    *,
    fixmedins_code: str,
    now: datetime,
    ids: IdGenerator,
) -> dict[str, Any]:
    """The 13xx download: build the file, store it for 9102, describe it."""
    if cmd.infno not in DOWNLOADS:
        raise InvalidInput(f"infno: {cmd.infno} 不是目录下载交易 (not a catalog download)")
    kind, list_type, _title = DOWNLOADS[cmd.infno]
    if kind == "hilist":
        lines = _lines(
            published.items_after(conn, list_type or "", cmd.ver), ITEM_COLUMNS, "item_id"
        )
    else:
        lines = _lines(published.dise_after(conn, kind, cmd.ver), DISE_COLUMNS, "dise_id")
    file_qury_no = ids.next_str()
    head = head_ver_no(conn)
    base = f"{cmd.infno}_{now:%Y%m%d%H%M%S}_v{cmd.ver}-{head}"
    content = _zip(f"{base}.txt", lines)
    expires = now + DOWNLOAD_TTL
    published.store_download(
        conn,
        file_qury_no=file_qury_no,
        fixmedins_code=fixmedins_code,
        filename=f"{base}.zip",
        content=content,
        created_at=now,
        expires_at=expires,
    )
    return {
        "file_qury_no": file_qury_no,
        "filename": f"{base}.zip",
        "dld_endtime": fmt_datetime(expires),
        "data_cnt": len(lines),
    }


def fetch_download(
    conn: Connection, *, file_qury_no: str, fixmedins_code: str, now: datetime
) -> tuple[str, bytes]:
    """9102: the stored file (filename, zip bytes) for the institution that generated it."""
    row = published.stored_file(conn, file_qury_no)
    if row is None:
        raise NotFound(
            f"fsDownloadIn.file_qury_no: 文件查询号 {file_qury_no} 不存在 (no such file)"
        )
    if row["fixmedins_code"] != fixmedins_code:
        raise Forbidden(
            f"fsDownloadIn.file_qury_no: 文件 {file_qury_no} 不属于本机构 (the file belongs to another institution)"
        )
    if row["expires_at"] < now:
        raise NotFound(
            f"fsDownloadIn.file_qury_no: 文件 {file_qury_no} 已于 {fmt_datetime(row['expires_at'])} 过期, "
            f"请重新下载目录 (the file expired; request the catalog again)"
        )
    return str(row["filename"]), bytes(row["content"])
