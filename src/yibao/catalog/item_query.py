"""1312 医保目录信息查询: a page of catalog items matching the client's filters, in the
national output's shape (with the few extra fields the settlement uses)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.catalog.commands import CatalogItemQuery
from yibao.catalog.repo import published
from yibao.kit.clock import fmt_date, fmt_datetime

#: the largest page a client may ask for
PAGE_SIZE_MAX = 1000


def query_items(conn: Connection, q: CatalogItemQuery, *, admdvs: str | None) -> dict[str, Any]:
    """One page of items; `admdvs` fills the region fields (the client's `insu_admdvs`, else
    the calling institution's)."""
    total, rows = published.item_page(
        conn, q, limit=q.page_size, offset=(q.page_num - 1) * q.page_size
    )
    out = [_row_1312(r, admdvs) for r in rows]
    pages = math.ceil(total / q.page_size) if total else 0
    return {
        "firstPage": 1 if pages else 0,
        "lastPage": pages,
        "size": len(out),
        "startRow": (q.page_num - 1) * q.page_size + 1 if out else 0,
        "pageSize": q.page_size,
        "pageNum": q.page_num,
        "recordCounts": total,
        "pages": pages,
        "data": out,
    }


def _row_1312(r: Mapping[Any, Any], admdvs: str | None) -> dict[str, Any]:
    ver_time = fmt_datetime(r["ver_time"])
    return {
        "hilist_code": r["hilist_code"],
        "hilist_name": r["hilist_name"],
        "insu_admdvs": admdvs,
        "begndate": fmt_date(r["begndate"]),
        "enddate": fmt_date(r["enddate"]),
        "med_chrgitm_type": r["med_chrgitm_type"],
        "chrgitm_lv": r["chrgitm_lv"],
        "lmt_used_flag": r["lmt_used_flag"],
        "list_type": r["list_type"],
        "med_use_flag": None,
        "matn_used_flag": None,
        "hilist_use_type": None,
        "lmt_cpnd_type": None,
        "wubi": r["wubi"],
        "pinyin": r["pinyin"],
        "memo": r["memo"],
        "vali_flag": r["vali_flag"],
        "rid": str(r["item_id"]),
        "updt_time": ver_time,
        "crter_id": r["ver_by"],
        "crter_name": r["ver_by"],
        "crte_time": ver_time,
        "crte_optins_no": admdvs,
        "opter_id": r["ver_by"],
        "opter_name": r["ver_by"],
        "opt_time": ver_time,
        "optins_no": admdvs,
        "poolarea_no": admdvs,
        # yibao extras: what the settlement uses (clients ignore unknown keys)
        "selfpay_prop": r["selfpay_prop"],
        "hilist_pric_uplmt_amt": r["hilist_pric_uplmt_amt"],
        "prcunt": r["prcunt"],
        "spec": r["spec"],
    }
