"""The paged catalog queries a HIS runs to keep its own tables in step with the platform:

- 1304 民族药品目录查询: the 民族药 (list type 104) items;
- 1316 医疗目录与医保目录匹配信息查询: which 医保目录 code each 医疗目录 code pays as. yibao's
  catalog is one list of national codes, so a code matches itself; a client that names its own
  code (`medins_list_codg`) gets the code its approved 目录对照 points to;
- 1317 医药机构目录匹配信息查询: the caller's own 目录对照 (3301) rows, pending and approved as
  effective (vali_flag 1), rejected, cancelled and superseded as not;
- 1318 医保目录限价信息查询: the terms with a price cap (`hilist_pric_uplmt_amt`);
- 1319 医保目录先自付比例信息查询: the 先行自付 ratios, one row per item and person type.

Every answer is 1312's page envelope (firstPage … data). Shapes follow public client code
(`Output_1304.cs` … `Output_1319.cs`); the codes yibao has no source for are provisional and
named below.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import closing
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.catalog.commands import CatalogItemQuery
from yibao.catalog.commands_queries import (
    EthnicDrugQuery,
    InstitutionMatchQuery,
    MedListMatchQuery,
    PageRequest,
    PriceCapQuery,
    SelfpayRatioQuery,
)
from yibao.catalog.repo import parse_ratio_by_psn_column, published
from yibao.catalog.repo import queries as repo
from yibao.codes.dicts import ListType, MapStatus
from yibao.kit import jsonx
from yibao.kit.clock import fmt_date, fmt_datetime

#: Provisional 医保目录限价类型: yibao holds one kind of cap, the ceiling the fund prices an
#: item at (no public source gives the dictionary's values).
LMTPRIC_TYPE_CEILING = "1"
#: Provisional 医保目录超限处理方式: the part over the cap is 超限价自费 (the settlement's rule,
#: reference/domain.md 1.2).
OVERLMT_SELF_PAY = "1"
#: Provisional 医保目录自付比例人员类别 of the item's own ratio, the one every person type
#: without a ratio of its own pays; the others are the `psn_type` codes of `selfpay_prop_psn`.
PSN_TYPE_ALL = "0"
#: Provisional 目录自付比例类别: 先行自付 (the only kind yibao's catalog holds).
SELFPAY_TYPE_FIRST = "1"

#: the 3301 row fields kept with a mapping as JSON, returned by 1317 under their own names
_MAPPING_EXTRA = ("aprvno", "dosform", "exct_cont", "item_cont", "prcunt", "spec", "pacspec")


def page_envelope(page: PageRequest, total: int, data: list[dict[str, Any]]) -> dict[str, Any]:
    """1312's page fields around one page of rows."""
    pages = math.ceil(total / page.page_size) if total else 0
    return {
        "firstPage": 1 if pages else 0,
        "lastPage": pages,
        "size": len(data),
        "startRow": page.offset + 1 if data else 0,
        "pageSize": page.page_size,
        "pageNum": page.page_num,
        "recordCounts": total,
        "pages": pages,
        "data": data,
    }


def _audit(ver_time: Any, ver_by: Any, admdvs: str | None) -> dict[str, Any]:
    """The creator/operator fields every catalog row carries: the catalog version's."""
    at = fmt_datetime(ver_time)
    return {
        "updt_time": at,
        "crter_id": ver_by,
        "crter_name": ver_by,
        "crte_time": at,
        "crte_optins_no": admdvs,
        "opter_id": ver_by,
        "opter_name": ver_by,
        "opt_time": at,
        "optins_no": admdvs,
    }


def _item_query(page: PageRequest, **filters: Any) -> CatalogItemQuery:
    return CatalogItemQuery(
        updt_time=page.updt_time,
        page_num=page.page_num,
        page_size=page.page_size,
        vali_flag=page.vali_flag,
        **filters,
    )


# --------------------------------------------------------------------------- 1304


def ethnic_drugs(conn: Connection, q: EthnicDrugQuery, *, admdvs: str | None) -> dict[str, Any]:
    """1304: a page of the 民族药 items."""
    total, rows = published.item_page(
        conn,
        _item_query(
            q.page,
            list_type=ListType.ETHNIC_DRUG.value,
            hilist_code=q.med_list_codg,
            hilist_name=q.name,
        ),
        limit=q.page.page_size,
        offset=q.page.offset,
    )
    return page_envelope(q.page, total, [_row_1304(r, admdvs) for r in rows])


def _row_1304(r: Mapping[Any, Any], admdvs: str | None) -> dict[str, Any]:
    return {
        "med_list_codg": r["hilist_code"],
        "drug_prodname": r["hilist_name"],
        "genname_codg": None,
        "drug_genname": r["hilist_name"],
        # the demo catalog names the tradition (藏药, 蒙药 …) in memo; ethdrug_type's codes
        # are not public
        "ethdrug_type": None,
        "dosform": r["dosform_name"],
        "drug_spec": r["spec"],
        "min_prcunt": r["prcunt"],
        "prodentp_name": r["prodentp_name"],
        "begndate": fmt_date(r["begndate"]),
        "enddate": fmt_date(r["enddate"]),
        "memo": r["memo"],
        "wubi": r["wubi"],
        "pinyin": r["pinyin"],
        "vali_flag": r["vali_flag"],
        "rid": str(r["item_id"]),
        **_audit(r["ver_time"], r["ver_by"], admdvs),
        "ver": None,
        # yibao extras: what the settlement uses (clients ignore unknown keys)
        "chrgitm_lv": r["chrgitm_lv"],
        "selfpay_prop": r["selfpay_prop"],
        "hilist_pric_uplmt_amt": r["hilist_pric_uplmt_amt"],
    }


# --------------------------------------------------------------------------- 1316


def medical_list_matches(
    conn: Connection, q: MedListMatchQuery, *, fixmedins_code: str, admdvs: str | None
) -> dict[str, Any]:
    """1316: a page of 医疗目录 ↔ 医保目录 matches (a national code matches itself)."""
    hilist_code = q.hilist_code
    if q.medins_list_codg:
        mapped = repo.approved_code(
            conn, fixmedins_code=fixmedins_code, medins_list_codg=q.medins_list_codg
        )
        if mapped is None or (hilist_code and hilist_code != mapped):
            return page_envelope(q.page, 0, [])
        hilist_code = mapped
    total, rows = published.item_page(
        conn,
        _item_query(
            q.page,
            hilist_code=hilist_code,
            list_type=q.list_type,
            begndate=q.begndate,
            query_date=q.query_date,
        ),
        limit=q.page.page_size,
        offset=q.page.offset,
    )
    return page_envelope(q.page, total, [_row_1316(r, admdvs) for r in rows])


def _row_1316(r: Mapping[Any, Any], admdvs: str | None) -> dict[str, Any]:
    return {
        "med_list_codg": r["hilist_code"],
        "hilist_code": r["hilist_code"],
        "list_type": r["list_type"],
        "insu_admdvs": admdvs,
        "begndate": fmt_date(r["begndate"]),
        "enddate": fmt_date(r["enddate"]),
        "memo": r["memo"],
        "vali_flag": r["vali_flag"],
        "rid": str(r["item_id"]),
        **_audit(r["ver_time"], r["ver_by"], admdvs),
        "poolarea_no": admdvs,
        # yibao extra: the name, so a client can show what it matched
        "hilist_name": r["hilist_name"],
    }


# --------------------------------------------------------------------------- 1317


def institution_matches(
    conn: Connection, q: InstitutionMatchQuery, *, fixmedins_code: str, admdvs: str | None
) -> dict[str, Any]:
    """1317: a page of the caller's own 目录对照 rows."""
    total, rows = repo.mapping_page(conn, q, fixmedins_code=fixmedins_code)
    return page_envelope(q.page, total, [_row_1317(r, admdvs) for r in rows])


def _extra(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = jsonx.loads(text)
    return value if isinstance(value, dict) else {}


def _row_1317(r: Mapping[Any, Any], admdvs: str | None) -> dict[str, Any]:
    extra = _extra(r["extra"])
    stas = str(r["map_stas"])
    operator = r["reviewed_by"] or r["submitted_by"]
    return {
        "fixmedins_code": r["fixmedins_code"],
        "medins_list_codg": r["medins_list_codg"],
        "medins_list_name": r["medins_list_name"],
        "insu_admdvs": admdvs,
        "list_type": r["list_type"],
        "med_list_codg": r["hilist_code"],
        # real answers carry the national code under both names
        "hilist_code": r["hilist_code"],
        "begndate": fmt_date(r["begndate"]),
        "enddate": fmt_date(r["enddate"]),
        **{k: extra.get(k) for k in _MAPPING_EXTRA},
        "memo": extra.get("memo"),
        "vali_flag": "1" if stas in repo.OPEN else "0",
        "rid": str(r["map_id"]),
        "updt_time": fmt_datetime(r["updated_at"]),
        "crter_id": r["submitted_by"],
        "crter_name": r["submitted_by"],
        "crte_time": fmt_datetime(r["submitted_at"]),
        "crte_optins_no": r["fixmedins_code"],
        "opter_id": operator,
        "opter_name": operator,
        "opt_time": fmt_datetime(r["reviewed_at"] or r["submitted_at"]),
        "optins_no": admdvs,
        "poolarea_no": admdvs,
        # yibao extras: the review state and its reason
        "map_stas": stas,
        "map_stas_name": MapStatus(stas).label if MapStatus.has(stas) else stas,
        "review_memo": r["review_memo"],
    }


# --------------------------------------------------------------------------- 1318


def price_caps(conn: Connection, q: PriceCapQuery, *, admdvs: str | None) -> dict[str, Any]:
    """1318: a page of the catalog's price caps."""
    if (q.hilist_lmtpric_type not in (None, LMTPRIC_TYPE_CEILING)) or (
        q.overlmt_dspo_way not in (None, OVERLMT_SELF_PAY)
    ):
        return page_envelope(q.page, 0, [])
    total, rows = repo.price_cap_page(conn, q)
    return page_envelope(q.page, total, [_row_1318(r, admdvs) for r in rows])


def _row_1318(r: Mapping[Any, Any], admdvs: str | None) -> dict[str, Any]:
    return {
        "hilist_code": r["hilist_code"],
        "hilist_lmtpric_type": LMTPRIC_TYPE_CEILING,
        "overlmt_dspo_way": OVERLMT_SELF_PAY,
        "insu_admdvs": admdvs,
        "begndate": fmt_date(r["begndate"]),
        "enddate": fmt_date(r["enddate"]),
        "hilist_pric_uplmt_amt": r["hilist_pric_uplmt_amt"],
        "vali_flag": r["vali_flag"],
        "rid": str(r["item_id"]),
        **_audit(r["ver_time"], r["ver_by"], admdvs),
        "tabname": "catalog_item",
        "poolarea_no": admdvs,
    }


# --------------------------------------------------------------------------- 1319


def ratio_rows(item: Mapping[Any, Any]) -> list[tuple[str, Decimal]]:
    """The item's 先行自付 ratios as (selfpay_prop_psn_type, ratio): its own first (when it has
    one), then each person type's, in the catalog's order."""
    own = Decimal(item["selfpay_prop"])
    rows = [(PSN_TYPE_ALL, own)] if own > 0 else []
    rows.extend(parse_ratio_by_psn_column(item["selfpay_prop_psn"]))
    return rows


def selfpay_ratios(conn: Connection, q: SelfpayRatioQuery, *, admdvs: str | None) -> dict[str, Any]:
    """1319: a page of the catalog's 先行自付 ratios, one row per item and person type.

    The count is SQL's; the page streams the matching terms in code order, expanding each into
    its rows, and stops reading once the page is full."""
    if q.selfpay_prop_type not in (None, SELFPAY_TYPE_FIRST):
        return page_envelope(q.page, 0, [])
    total = repo.ratio_count(conn, q, psn_type_all=PSN_TYPE_ALL)
    skip, data = q.page.offset, []
    if skip < total:
        items = repo.ratio_items(conn, q, psn_type_all=PSN_TYPE_ALL)
        with closing(items):
            for item in items:
                for psn, ratio in ratio_rows(item):
                    if q.selfpay_prop_psn_type not in (None, psn):
                        continue
                    if skip:
                        skip -= 1
                        continue
                    data.append(_row_1319(item, psn, ratio, admdvs))
                if len(data) >= q.page.page_size:
                    break
    return page_envelope(q.page, total, data[: q.page.page_size])


def _row_1319(r: Mapping[Any, Any], psn: str, ratio: Decimal, admdvs: str | None) -> dict[str, Any]:
    return {
        "hilist_code": r["hilist_code"],
        "selfpay_prop_psn_type": psn,
        "selfpay_prop_type": SELFPAY_TYPE_FIRST,
        "insu_admdvs": admdvs,
        "begndate": fmt_date(r["begndate"]),
        "enddate": fmt_date(r["enddate"]),
        "selfpay_prop": ratio,
        "vali_flag": r["vali_flag"],
        "rid": f"{r['item_id']}-{psn}",
        **_audit(r["ver_time"], r["ver_by"], admdvs),
        "tabname": "catalog_item",
        "poolarea_no": admdvs,
    }
