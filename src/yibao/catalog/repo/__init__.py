"""Catalog queries: the terms of national codes at a time, versions, code-catalog lookups.

`terms_at(conn, codes, at)` is on the settlement hot path: one query for the whole bill. The
settlement service normally goes through `yibao.catalog.cache.CatalogCache`, which answers
from memory and queries only for codes it has not seen under the current catalog version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from yibao.catalog.model import CatalogItem, DiseEntry, Restrictions
from yibao.storage.tables import catalog_dise, catalog_item, catalog_version

#: Most bills name far fewer codes; above this the IN list is split (SQLite's bound-parameter
#: limit is 32766, MySQL's packet size bounds it too).
_IN_CHUNK = 900


def _day(at: datetime | date) -> date:
    return at.date() if isinstance(at, datetime) else at


def _chunks(values: list[str], size: int = _IN_CHUNK) -> Iterable[list[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


# --------------------------------------------------------------------------- row ↔ model


def format_ratio_by_psn(pairs: Iterable[tuple[str, Decimal]]) -> str | None:
    text = ";".join(f"{psn}:{format(ratio, 'f')}" for psn, ratio in pairs)
    return text or None


def parse_ratio_by_psn_column(text: str | None) -> tuple[tuple[str, Decimal], ...]:
    if not text:
        return ()
    pairs = []
    for part in text.split(";"):
        psn, _, ratio = part.partition(":")
        pairs.append((psn, Decimal(ratio)))
    return tuple(pairs)


def _csv(values: Iterable[str]) -> str | None:
    text = ",".join(sorted(values))
    return text or None


def _split(text: str | None) -> list[str]:
    return [p for p in (text or "").split(",") if p]


def item_to_row(
    item: CatalogItem, *, item_id: int, version_id: int, created_at: datetime
) -> dict[str, Any]:
    r = item.restrictions
    return {
        "item_id": item_id,
        "version_id": version_id,
        "superseded_by": None,
        "vali_flag": "1",
        "list_type": item.list_type,
        "hilist_code": item.hilist_code,
        "hilist_name": item.hilist_name,
        "chrgitm_lv": item.chrgitm_lv,
        "med_chrgitm_type": item.med_chrgitm_type,
        "selfpay_prop": item.selfpay_prop,
        "selfpay_prop_psn": format_ratio_by_psn(item.selfpay_prop_psn),
        "hilist_pric_uplmt_amt": item.hilist_pric_uplmt_amt,
        "lmt_used_flag": item.lmt_used_flag,
        "bas_medn_flag": item.bas_medn_flag,
        "hi_nego_drug_flag": item.hi_nego_drug_flag,
        "chld_medc_flag": item.chld_medc_flag,
        "list_sp_item_flag": item.list_sp_item_flag,
        "drt_reim_flag": item.drt_reim_flag,
        "prcunt": item.prcunt,
        "spec": item.spec,
        "dosform_name": item.dosform_name,
        "prodentp_name": item.prodentp_name,
        "lmt_gend": r.gend,
        "lmt_age_min": r.age_min,
        "lmt_age_max": r.age_max,
        "lmt_hosp_lv": _csv(r.hosp_lv),
        "lmt_med_type": _csv(r.med_type),
        "lmt_diag_codes": ",".join(r.diag_codes) or None,
        "lmt_days": r.max_days,
        "lmt_cnt": r.max_cnt,
        "wubi": item.wubi,
        "pinyin": item.pinyin,
        "memo": item.memo,
        "begndate": item.begndate,
        "enddate": item.enddate,
        "created_at": created_at,
    }


def item_from_row(row: Mapping[Any, Any]) -> CatalogItem:
    restrictions = Restrictions(
        gend=row["lmt_gend"],
        age_min=row["lmt_age_min"],
        age_max=row["lmt_age_max"],
        hosp_lv=frozenset(_split(row["lmt_hosp_lv"])),
        med_type=frozenset(_split(row["lmt_med_type"])),
        diag_codes=tuple(_split(row["lmt_diag_codes"])),
        max_days=row["lmt_days"],
        max_cnt=row["lmt_cnt"],
    )
    return CatalogItem(
        hilist_code=row["hilist_code"],
        hilist_name=row["hilist_name"],
        list_type=row["list_type"],
        chrgitm_lv=row["chrgitm_lv"],
        selfpay_prop=row["selfpay_prop"],
        begndate=row["begndate"],
        enddate=row["enddate"],
        med_chrgitm_type=row["med_chrgitm_type"],
        selfpay_prop_psn=parse_ratio_by_psn_column(row["selfpay_prop_psn"]),
        hilist_pric_uplmt_amt=row["hilist_pric_uplmt_amt"],
        lmt_used_flag=row["lmt_used_flag"],
        prcunt=row["prcunt"],
        spec=row["spec"],
        dosform_name=row["dosform_name"],
        prodentp_name=row["prodentp_name"],
        bas_medn_flag=row["bas_medn_flag"],
        hi_nego_drug_flag=row["hi_nego_drug_flag"],
        chld_medc_flag=row["chld_medc_flag"],
        list_sp_item_flag=row["list_sp_item_flag"],
        drt_reim_flag=row["drt_reim_flag"],
        restrictions=restrictions,
        memo=row["memo"],
        wubi=row["wubi"],
        pinyin=row["pinyin"],
        item_id=row["item_id"],
        version_id=row["version_id"],
    )


def dise_to_row(
    entry: DiseEntry, *, dise_id: int, version_id: int, created_at: datetime
) -> dict[str, Any]:
    return {
        "dise_id": dise_id,
        "version_id": version_id,
        "superseded_by": None,
        "vali_flag": "1",
        "catalog_kind": entry.catalog_kind,
        "dise_codg": entry.dise_codg,
        "dise_name": entry.dise_name,
        "lmt_gend": entry.lmt_gend,
        "memo": entry.memo,
        "begndate": entry.begndate,
        "enddate": entry.enddate,
        "created_at": created_at,
    }


def dise_from_row(row: Mapping[Any, Any]) -> DiseEntry:
    return DiseEntry(
        catalog_kind=row["catalog_kind"],
        dise_codg=row["dise_codg"],
        dise_name=row["dise_name"],
        begndate=row["begndate"],
        enddate=row["enddate"],
        lmt_gend=row["lmt_gend"],
        memo=row["memo"],
        dise_id=row["dise_id"],
        version_id=row["version_id"],
    )


# --------------------------------------------------------------------------- queries


def _valid_on(table: Any, day: date) -> Any:
    return and_(
        table.c.vali_flag == "1",
        table.c.begndate <= day,
        or_(table.c.enddate.is_(None), table.c.enddate >= day),
    )


def terms_at(conn: Connection, codes: Iterable[str], at: datetime | date) -> dict[str, CatalogItem]:
    """The term of each national code valid at `at` (codes unknown then are absent).

    One query for a bill of up to 900 distinct codes.
    """
    wanted = sorted(set(codes))
    day = _day(at)
    found: dict[str, CatalogItem] = {}
    for chunk in _chunks(wanted):
        rows = conn.execute(
            select(catalog_item).where(
                catalog_item.c.hilist_code.in_(chunk), _valid_on(catalog_item, day)
            )
        ).mappings()
        for row in rows:
            found[row["hilist_code"]] = item_from_row(row)
    return found


def all_terms(conn: Connection, codes: Iterable[str]) -> dict[str, list[CatalogItem]]:
    """Every effective term of each code, oldest first (what the cache keeps per code)."""
    wanted = sorted(set(codes))
    found: dict[str, list[CatalogItem]] = {}
    for chunk in _chunks(wanted):
        rows = conn.execute(
            select(catalog_item)
            .where(catalog_item.c.hilist_code.in_(chunk), catalog_item.c.vali_flag == "1")
            .order_by(catalog_item.c.hilist_code, catalog_item.c.begndate)
        ).mappings()
        for row in rows:
            found.setdefault(row["hilist_code"], []).append(item_from_row(row))
    return found


def restricted_items(conn: Connection, since: date, until: date) -> list[CatalogItem]:
    """The terms valid on some day of [since, until] that restrict their item's
    reimbursement (any `lmt_*` restriction, or a child-only drug): what the post stage's
    re-run of the line rules looks for."""
    c = catalog_item.c
    restricted = or_(
        c.lmt_gend.is_not(None),
        c.lmt_age_min.is_not(None),
        c.lmt_age_max.is_not(None),
        and_(c.lmt_hosp_lv.is_not(None), c.lmt_hosp_lv != ""),
        and_(c.lmt_med_type.is_not(None), c.lmt_med_type != ""),
        and_(c.lmt_diag_codes.is_not(None), c.lmt_diag_codes != ""),
        c.lmt_days.is_not(None),
        c.lmt_cnt.is_not(None),
        c.chld_medc_flag == "1",
    )
    rows = conn.execute(
        select(catalog_item)
        .where(
            c.vali_flag == "1",
            c.begndate <= until,
            or_(c.enddate.is_(None), c.enddate >= since),
            restricted,
        )
        .order_by(c.hilist_code, c.begndate)
    ).mappings()
    return [item_from_row(r) for r in rows]


def history(conn: Connection, code: str) -> list[tuple[CatalogItem, int | None]]:
    """Every row ever stored for `code`, superseded ones included: (item, superseded_by)."""
    rows = conn.execute(
        select(catalog_item)
        .where(catalog_item.c.hilist_code == code)
        .order_by(catalog_item.c.begndate, catalog_item.c.version_id)
    ).mappings()
    return [(item_from_row(r), r["superseded_by"]) for r in rows]


def dise_at(
    conn: Connection, catalog_kind: str, codes: Iterable[str], at: datetime | date
) -> dict[str, DiseEntry]:
    """The code-catalog entries (diagnosis, operation, 门慢特 …) valid at `at`."""
    wanted = sorted(set(codes))
    day = _day(at)
    found: dict[str, DiseEntry] = {}
    for chunk in _chunks(wanted):
        rows = conn.execute(
            select(catalog_dise).where(
                catalog_dise.c.catalog_kind == catalog_kind,
                catalog_dise.c.dise_codg.in_(chunk),
                _valid_on(catalog_dise, day),
            )
        ).mappings()
        for row in rows:
            found[row["dise_codg"]] = dise_from_row(row)
    return found


def head_ver_no(conn: Connection) -> int:
    """The number of the latest applied catalog version (0 when none)."""
    value = conn.execute(select(func.max(catalog_version.c.ver_no))).scalar_one_or_none()
    return int(value or 0)


def versions(conn: Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    """The latest catalog versions, newest first."""
    rows = conn.execute(
        select(catalog_version).order_by(catalog_version.c.ver_no.desc()).limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def count_effective(conn: Connection) -> dict[str, int]:
    """Effective rows per list type / catalog kind (for status displays)."""
    out: dict[str, int] = {}
    for lt, n in conn.execute(
        select(catalog_item.c.list_type, func.count())
        .where(catalog_item.c.vali_flag == "1")
        .group_by(catalog_item.c.list_type)
    ):
        out[str(lt)] = int(n)
    for kind, n in conn.execute(
        select(catalog_dise.c.catalog_kind, func.count())
        .where(catalog_dise.c.vali_flag == "1")
        .group_by(catalog_dise.c.catalog_kind)
    ):
        out[str(kind)] = int(n)
    return out
