"""1318 限价 and 1319 先自付比例 on both row stores: 1319 counts with LENGTH/REPLACE and
streams the catalog through a server-side cursor, which must work on MariaDB/TiDB too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from yibao.catalog.commands_queries import PageRequest, PriceCapQuery, SelfpayRatioQuery
from yibao.catalog.demo import load_demo_catalog
from yibao.catalog.queries import price_caps, selfpay_ratios
from yibao.storage.uow import UnitOfWork

PAGE = PageRequest(updt_time=datetime(2000, 1, 1), page_num=1, page_size=50, vali_flag="1")


def test_price_caps_and_selfpay_ratios_page_alike_on_every_backend(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        load_demo_catalog(uow.conn)
        uow.commit()
    with engine.connect() as conn:
        caps = price_caps(conn, PriceCapQuery(page=PAGE), admdvs="110199")
        first = selfpay_ratios(conn, SelfpayRatioQuery(page=PAGE), admdvs="110199")
        total = first["recordCounts"]
        pages = []
        for num in range(1, 4):
            page = PageRequest(updt_time=PAGE.updt_time, page_num=num, page_size=7, vali_flag="1")
            pages.append(selfpay_ratios(conn, SelfpayRatioQuery(page=page), admdvs="110199"))
    assert caps["data"], "the demo catalog has capped items"
    assert first["data"], "the demo catalog has self-pay-first ratios"
    assert int(total) >= len(first["data"])
    rows = [(r["hilist_code"], r["selfpay_prop_psn_type"]) for p in pages for r in p["data"]]
    assert len(rows) == len(set(rows)), "pages do not overlap"
    assert (
        rows == [(r["hilist_code"], r["selfpay_prop_psn_type"]) for r in first["data"]][: len(rows)]
    )
