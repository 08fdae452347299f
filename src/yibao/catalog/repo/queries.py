"""The SQL of the paged catalog queries 1316–1319 (1304 and 1316 page items through
`published.item_page`).

Reads of 目录对照 rows take `fixmedins_code` as their scope: an institution sees its own.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date

from sqlalchemy import ColumnElement, Connection, RowMapping, and_, case, func, or_, select

from yibao.catalog.commands_queries import (
    InstitutionMatchQuery,
    PageRequest,
    PriceCapQuery,
    SelfpayRatioQuery,
)
from yibao.codes.dicts import MapStatus
from yibao.storage.tables import catalog_item, catalog_mapping, catalog_version

#: the 目录对照 states a client sees as effective (vali_flag "1"): pending review or approved
OPEN = (MapStatus.SUBMITTED.value, MapStatus.APPROVED.value)

t, v, m = catalog_item, catalog_version, catalog_mapping


def approved_code(conn: Connection, *, fixmedins_code: str, medins_list_codg: str) -> str | None:
    """The national code the institution's approved mapping of its own code points to."""
    value = conn.execute(
        select(m.c.hilist_code)
        .where(
            m.c.fixmedins_code == fixmedins_code,
            m.c.medins_list_codg == medins_list_codg,
            m.c.map_stas == MapStatus.APPROVED.value,
        )
        .order_by(m.c.reviewed_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def _effective_on(
    begn: ColumnElement[date], end: ColumnElement[date], day: date
) -> ColumnElement[bool]:
    return and_(begn <= day, or_(end.is_(None), end >= day))


# --------------------------------------------------------------------------- 1317


def _mapping_filter(q: InstitutionMatchQuery, fixmedins_code: str) -> ColumnElement[bool]:
    conds: list[ColumnElement[bool]] = [
        m.c.fixmedins_code == fixmedins_code,
        m.c.updated_at >= q.page.updt_time,
        m.c.map_stas.in_(OPEN) if q.page.vali_flag == "1" else m.c.map_stas.not_in(OPEN),
    ]
    if q.medins_list_codg:
        conds.append(m.c.medins_list_codg == q.medins_list_codg)
    if q.medins_list_name:
        conds.append(m.c.medins_list_name.contains(q.medins_list_name, autoescape=True))
    if q.list_type:
        conds.append(m.c.list_type == q.list_type)
    if q.med_list_codg:
        conds.append(m.c.hilist_code == q.med_list_codg)
    if q.begndate:
        conds.append(m.c.begndate >= q.begndate)
    if q.query_date:
        conds.append(_effective_on(m.c.begndate, m.c.enddate, q.query_date))
    return and_(*conds)


def mapping_page(
    conn: Connection, q: InstitutionMatchQuery, *, fixmedins_code: str
) -> tuple[int, list[RowMapping]]:
    """(count of the institution's matching 目录对照 rows, one page of them)."""
    where = _mapping_filter(q, fixmedins_code)
    total = int(conn.execute(select(func.count()).select_from(m).where(where)).scalar_one())
    rows = conn.execute(
        select(m)
        .where(where)
        .order_by(m.c.medins_list_codg, m.c.submitted_at, m.c.map_id)
        .limit(q.page.page_size)
        .offset(q.page.offset)
    ).mappings()
    return total, list(rows)


# --------------------------------------------------------------------------- 1318 / 1319


def _item_filter(
    page: PageRequest,
    *,
    hilist_code: str | None,
    query_date: date | None,
    begndate: date | None,
    enddate: date | None,
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [
        v.c.created_at >= page.updt_time,
        t.c.vali_flag == page.vali_flag,
    ]
    if hilist_code:
        conds.append(t.c.hilist_code == hilist_code)
    if query_date:
        conds.append(_effective_on(t.c.begndate, t.c.enddate, query_date))
    if begndate:
        conds.append(t.c.begndate >= begndate)
    if enddate:
        conds.append(t.c.enddate <= enddate)
    return conds


def price_cap_page(conn: Connection, q: PriceCapQuery) -> tuple[int, list[RowMapping]]:
    """(count of the catalog terms with a price cap that match, one page of them)."""
    where = and_(
        t.c.hilist_pric_uplmt_amt.is_not(None),
        *_item_filter(
            q.page,
            hilist_code=q.hilist_code,
            query_date=q.query_date,
            begndate=q.begndate,
            enddate=q.enddate,
        ),
    )
    joined = t.join(v, v.c.version_id == t.c.version_id)
    total = int(conn.execute(select(func.count()).select_from(joined).where(where)).scalar_one())
    rows = conn.execute(
        select(
            t.c.item_id,
            t.c.hilist_code,
            t.c.hilist_pric_uplmt_amt,
            t.c.begndate,
            t.c.enddate,
            t.c.vali_flag,
            v.c.created_at.label("ver_time"),
            v.c.created_by.label("ver_by"),
        )
        .select_from(joined)
        .where(where)
        .order_by(t.c.hilist_code, t.c.begndate, t.c.item_id)
        .limit(q.page.page_size)
        .offset(q.page.offset)
    ).mappings()
    return total, list(rows)


#: the ratio rows a page of 1319 reads at a time while it skips to its offset
_RATIO_CHUNK = 1000


def _ratio_where(q: SelfpayRatioQuery, psn_type_all: str) -> ColumnElement[bool]:
    """The terms with a 先行自付 ratio (their own or a person type's) that match; with a
    `selfpay_prop_psn_type`, only the terms that have a ratio for it."""
    psn = t.c.selfpay_prop_psn
    if q.selfpay_prop_psn_type is None:
        has_ratio: ColumnElement[bool] = or_(t.c.selfpay_prop > 0, psn.is_not(None))
    elif q.selfpay_prop_psn_type == psn_type_all:
        has_ratio = t.c.selfpay_prop > 0
    else:
        # "1300:0;1201:0.05": the type starts the text or follows a ";"
        code = q.selfpay_prop_psn_type
        has_ratio = or_(
            psn.startswith(f"{code}:", autoescape=True), psn.contains(f";{code}:", autoescape=True)
        )
    return and_(
        has_ratio,
        t.c.chrgitm_lv != "03",
        *_item_filter(
            q.page,
            hilist_code=q.hilist_code,
            query_date=q.query_date,
            begndate=q.begndate,
            enddate=q.enddate,
        ),
    )


def ratio_count(conn: Connection, q: SelfpayRatioQuery, *, psn_type_all: str) -> int:
    """How many ratio rows 1319 lists: one per matching term when a person type is asked for;
    otherwise the terms' own ratios plus every person-type pair (pairs are ";"-separated)."""
    joined = t.join(v, v.c.version_id == t.c.version_id)
    where = _ratio_where(q, psn_type_all)
    if q.selfpay_prop_psn_type is not None:
        query = select(func.count()).select_from(joined).where(where)
        return int(conn.execute(query).scalar_one())
    psn = t.c.selfpay_prop_psn
    pairs = case(
        (
            and_(psn.is_not(None), psn != ""),
            func.length(psn) - func.length(func.replace(psn, ";", "")) + 1,
        ),
        else_=0,
    )
    own = case((t.c.selfpay_prop > 0, 1), else_=0)
    query = select(func.coalesce(func.sum(own + pairs), 0)).select_from(joined).where(where)
    return int(conn.execute(query).scalar_one())


def ratio_items(
    conn: Connection, q: SelfpayRatioQuery, *, psn_type_all: str
) -> Generator[RowMapping, None, None]:
    """The matching terms with a ratio, in code order, streamed: the service expands each into
    its ratio rows and stops once it has its page."""
    query = (
        select(
            t.c.item_id,
            t.c.hilist_code,
            t.c.selfpay_prop,
            t.c.selfpay_prop_psn,
            t.c.begndate,
            t.c.enddate,
            t.c.vali_flag,
            v.c.created_at.label("ver_time"),
            v.c.created_by.label("ver_by"),
        )
        .select_from(t.join(v, v.c.version_id == t.c.version_id))
        .where(_ratio_where(q, psn_type_all))
        .order_by(t.c.hilist_code, t.c.begndate, t.c.item_id)
    )
    result = conn.execution_options(stream_results=True, yield_per=_RATIO_CHUNK).execute(query)
    try:
        yield from result.mappings()
    finally:
        # the caller stops at its page: free the cursor then, not when the generator is collected
        result.close()
