"""The bulk-loaded city holds 异地就医: persons insured in the neighbouring region settle at the
demo city's institutions at a few per cent of inpatient stays, under their own region's
benefits, and the month's inter-region clearing adds up to the fen."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from yibao.config import Settings
from yibao.policy import load_book
from yibao.settlement import inter_region
from yibao.simulate.bulk import bulk_load
from yibao.simulate.model import CityParams
from yibao.simulate.people import PersonFactory
from yibao.storage.engine import make_engine
from yibao.storage.tables import remote_reg, setl

CITY = CityParams(seed=77, persons=600, institutions=16, days=120, settlements=3000)
ZERO = Decimal("0.00")


def test_remote_visits_in_the_bulk_city(settings: Settings) -> None:
    engine = make_engine(settings.db_url)
    try:
        report = bulk_load(engine, CITY, workers=1)
        assert report.refused == 0, report.refusals
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(select(setl)).mappings()]
            registered = set(conn.execute(select(remote_reg.c.psn_no)).scalars())
            book = load_book()
            months = sorted({f"{r['setl_time']:%Y-%m}" for r in rows})
            reports = [inter_region.report(conn, book, month=m) for m in months]
    finally:
        engine.dispose()
    factory = PersonFactory(CITY)
    persons = {p.psn_no: p for p in (factory.make(i) for i in range(CITY.persons))}
    remote_people = {k for k, p in persons.items() if p.insuplc_admdvs == "131099"}
    assert registered == {k for k in remote_people if persons[k].remote_registered}

    stays = [r for r in rows if r["refd_setl_flag"] == "0" and r["med_type"].startswith("2")]
    remote_stays = [r for r in stays if r["insuplc_admdvs"] == "131099"]
    assert stays and 0.01 <= len(remote_stays) / len(stays) <= 0.10  # a few per cent
    assert {r["psn_no"] for r in rows if r["insuplc_admdvs"] == "131099"} <= remote_people

    owed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in rows:
        if r["insuplc_admdvs"] == "131099":
            owed[f"{r['setl_time']:%Y-%m}"] += r["fund_pay_sumamt"] + r["acct_pay"]
    for month, rep in zip(months, reports, strict=True):
        assert rep["balanced"] is True
        by_pair = {(i["treatment_admdvs"], i["insured_admdvs"]): i for i in rep["receivables"]}
        got = by_pair.get(("110199", "131099"))
        assert (got["owed"] if got else ZERO) == owed[month]
        books = {g["admdvs"]: g for g in rep["regions"]}
        assert books["131099"]["liability"] == books["110199"]["receivable"] == owed[month]
