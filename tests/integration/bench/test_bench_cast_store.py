"""The persons a settle run enrols are in the row store (with their change-log rows for the
replica) and apart from every earlier run's; the driver knows the catalog's restricted items."""

from __future__ import annotations

from sqlalchemy import func, select

from yibao.bench import cast, store
from yibao.bench.fixtures import load_fixtures
from yibao.runtime import Platform
from yibao.simulate.demo import load_demo
from yibao.storage.tables import catalog_item, change_log, psn, psn_insu


def test_each_run_enrols_persons_of_its_own(platform: Platform) -> None:
    engine = platform.db.engine
    load_demo(engine, platform.settings.data_dir, persons=200)
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(psn)).scalar_one()
        logged = conn.execute(
            select(func.count()).select_from(change_log).where(change_log.c.entity == "psn")
        ).scalar_one()
    first = cast.enrol(engine, 150, tag="RUNA")
    second = cast.enrol(engine, 150, tag="RUNB")
    assert len(first) == len(second) == 150
    assert not {p["psn_no"] for p in first} & {p["psn_no"] for p in second}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(psn)).scalar_one() == before + 300
        insured = conn.execute(
            select(func.count())
            .select_from(psn_insu)
            .where(psn_insu.c.psn_no.in_([p["psn_no"] for p in first]))
        ).scalar_one()
        assert insured == 150
        assert (
            conn.execute(
                select(func.count()).select_from(change_log).where(change_log.c.entity == "psn")
            ).scalar_one()
            == logged + 300
        )


def test_the_driver_leaves_restricted_items_out(platform: Platform) -> None:
    engine = platform.db.engine
    load_demo(engine, platform.settings.data_dir, persons=200)
    fixtures = load_fixtures(platform.settings.data_dir)
    codes = [i["code"] for i in fixtures.catalog_items]
    found = store.restricted_codes(engine, codes)
    with engine.connect() as conn:
        flagged = {
            str(r[0])
            for r in conn.execute(
                select(catalog_item.c.hilist_code).where(
                    catalog_item.c.hilist_code.in_(codes),
                    catalog_item.c.enddate.is_(None),
                    catalog_item.c.lmt_used_flag == "1",
                )
            )
        }
    assert flagged  # the demo's sample holds a restricted item (an inpatient-only injection)
    assert flagged <= found
    assert found < set(codes)
