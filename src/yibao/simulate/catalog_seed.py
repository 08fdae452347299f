"""The simulator's own items in the catalog, so that the city's bills use codes the platform
knows (the same terms for the bulk load and for live settlement through the interface).

Inserted as one catalog version ("simulate-builtin") through the catalog's own row mapping
(`yibao.catalog.repo.item_to_row`), once: when any of the codes is already there, nothing is
written.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, insert, select

from yibao.catalog.model import CatalogItem, Restrictions
from yibao.catalog.repo import head_ver_no, item_to_row
from yibao.kit.ids import IdGenerator
from yibao.simulate.clinical import BUILTIN_ITEMS, SimItem
from yibao.storage.tables import catalog_item, catalog_version

VERSION_NAME = "simulate-builtin"
BEGNDATE = date(2020, 1, 1)


def catalog_item_of(item: SimItem) -> CatalogItem:
    return CatalogItem(
        hilist_code=item.code,
        hilist_name=item.name,
        list_type=item.list_type,
        chrgitm_lv=item.chrgitm_lv,
        selfpay_prop=item.selfpay_prop,
        begndate=BEGNDATE,
        med_chrgitm_type=item.med_chrgitm_type,
        hilist_pric_uplmt_amt=item.cap,
        restrictions=Restrictions(
            gend=item.gend,
            age_min=item.age_min,
            age_max=item.age_max,
            hosp_lv=frozenset(item.hosp_lv),
            med_type=frozenset(item.med_type),
            diag_codes=item.diag_codes,
        ),
        chld_medc_flag="1" if item.age_max is not None else "0",
        # an item with indications is a 限制使用 item (docs/catalog.md), as in the demo catalog
        lmt_used_flag="1" if item.diag_codes else "0",
        memo="模拟城市内置目录 (simulator's built-in item)",
    )


def ensure_sim_catalog(conn: Connection, *, ids: IdGenerator, now: datetime) -> int:
    """Insert the built-in items the catalog does not know yet (every one on a fresh store;
    on a catalog that holds some — the demo catalog takes several of them — the others, so
    that no item the city bills is 目录外 by accident); returns rows added."""
    codes = [i.code for i in BUILTIN_ITEMS]
    known = set(
        conn.execute(
            select(catalog_item.c.hilist_code).where(catalog_item.c.hilist_code.in_(codes))
        ).scalars()
    )
    missing = [i for i in BUILTIN_ITEMS if i.code not in known]
    if not missing:
        return 0
    version_id = ids.next_id()
    conn.execute(
        insert(catalog_version).values(
            version_id=version_id,
            ver_no=head_ver_no(conn) + 1,
            ver=VERSION_NAME,
            kinds="hilist",
            source="yibao.simulate.clinical.BUILTIN_ITEMS",
            row_count=len(missing),
            rejected_count=0,
            memo="模拟城市的药品、诊疗项目与耗材 (items the synthetic city bills)",
            created_at=now,
            created_by="yibao simulate",
        )
    )
    rows = [
        item_to_row(
            catalog_item_of(i), item_id=ids.next_id(), version_id=version_id, created_at=now
        )
        for i in missing
    ]
    conn.execute(insert(catalog_item), rows)
    return len(rows)
