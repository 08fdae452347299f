"""The demo catalog: generated file in step with its generator, idempotent loading, and the
codes the demo city's bills and visits use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from yibao.catalog import repo
from yibao.catalog.demo import demo_catalog_text, load_demo_catalog
from yibao.catalog.demo_data import render
from yibao.simulate.clinical import BUILTIN_ITEMS, CONDITIONS
from yibao.storage.tables import catalog_item, catalog_version
from yibao.storage.uow import UnitOfWork

AT = datetime(2025, 6, 1, 10, 0)


def test_the_committed_csv_is_the_generators_output() -> None:
    assert demo_catalog_text() == render()


def test_loading_is_idempotent(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        report = load_demo_catalog(uow.conn)
        uow.commit()
    assert report is not None and report.rejected == [] and report.applied > 300
    with UnitOfWork(engine) as uow:
        assert load_demo_catalog(uow.conn) is None
        uow.commit()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(catalog_version)).scalar_one() == 1


def test_the_demo_catalog_covers_what_the_demo_uses(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        load_demo_catalog(uow.conn)
        uow.commit()
    with engine.connect() as conn:
        counts = repo.count_effective(conn)
        terms = repo.terms_at(conn, {i.code for i in BUILTIN_ITEMS}, AT)
        diagnoses = repo.dise_at(conn, "diagnosis", {c.diag_code for c in CONDITIONS}, AT)
        chronic = repo.dise_at(conn, "chronic_disease", {"M03900", "M01600"}, AT)
        every = [repo.item_from_row(r) for r in conn.execute(select(catalog_item)).mappings()]
    for list_type in ("101", "102", "103", "201", "301"):
        assert counts[list_type] >= 5, list_type
    for kind in ("diagnosis", "operation", "chronic_disease", "disease_payment", "day_surgery"):
        assert counts[kind] >= 4, kind
    assert sum(counts[t] for t in ("101", "102", "103", "201", "301")) >= 300

    # The simulator's items settle against the same terms.
    for sim in BUILTIN_ITEMS:
        item = terms[sim.code]
        assert (item.hilist_name, item.list_type, item.chrgitm_lv) == (
            sim.name,
            sim.list_type,
            sim.chrgitm_lv,
        )
        assert item.hilist_pric_uplmt_amt == sim.cap
        assert item.selfpay_prop == sim.selfpay_prop
        r = item.restrictions
        assert (r.gend, r.age_min, r.age_max) == (sim.gend, sim.age_min, sim.age_max)
        # the indications too: the city bills a restricted drug only where it is indicated
        assert r.diag_codes == sim.diag_codes, sim.name
        assert item.lmt_used_flag == ("1" if sim.diag_codes else "0"), sim.name
    assert set(diagnoses) == {c.diag_code for c in CONDITIONS}
    assert set(chronic) == {"M03900", "M01600"}

    # The restrictions the demo shows off.
    assert any(i.restrictions.gend == "2" for i in every)
    assert any(i.restrictions.age_max == 14 for i in every)
    assert any(i.restrictions.hosp_lv == frozenset({"3"}) for i in every)
    assert any(i.restrictions.diag_codes and i.lmt_used_flag == "1" for i in every)
    assert any(i.selfpay_prop_psn for i in every)
    assert {i.chrgitm_lv for i in every} == {"01", "02", "03"}
