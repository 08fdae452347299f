"""The review's history reads on both backends (SQLite; MariaDB under `mysql`): visits inside
the rules' windows and open or recent admissions, earlier supplies of the bill's drugs, and the
rules that use them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from yibao.bench.review import CODES, HOSP, PSN, seed_year
from yibao.catalog.cache import CatalogCache
from yibao.catalog.demo import load_demo_catalog
from yibao.kit.ids import IdGenerator
from yibao.review import service as review
from yibao.review.demo_kb import load_demo_kb
from yibao.review.service import Reviewer
from yibao.risk import Institution, Person, load_ruleset

TODAY = date(2025, 6, 18)


def test_history_is_narrowed_to_what_the_rules_use(engine: Engine) -> None:
    with engine.begin() as conn:
        load_demo_catalog(conn)
        load_demo_kb(conn, ids=IdGenerator(3), now=datetime(2025, 1, 1))
        written = seed_year(conn, TODAY, IdGenerator(4))
    assert written > 100
    reviewer = Reviewer(load_ruleset())
    begn = datetime.combine(TODAY, datetime.min.time()).replace(hour=10)
    with engine.connect() as conn:
        terms = CatalogCache().terms_at(conn, CODES, TODAY)
        lines = [
            review.line_of(
                line_id=str(i),
                code=code,
                cnt=Decimal(1),
                pric=Decimal(8),
                amount=Decimal(8),
                when=begn,
                item=terms.get(code),
                prd_days=Decimal(3),
            )
            for i, code in enumerate(CODES, start=1)
        ]
        bill = review.bill_of(
            mdtrt_id="NEW",
            scene="outpatient",
            med_type="11",
            begntime=begn,
            person=Person(PSN, "1", 65),
            institution=Institution(HOSP, "3", "110102"),
            lines=lines,
        )
        kb = reviewer.kb(conn)
        history = reviewer.history(conn, bill, kb=kb)
        hits = reviewer.review(conn, "mid", bill)
    window = reviewer.window_days(kb, TODAY)
    recent = begn - timedelta(days=window)
    assert history.visits
    assert all(
        v.begntime >= recent or (v.scene == "inpatient" and (v.endtime or begn) >= recent)
        for v in history.visits
    )
    assert len(history.visits) < written / 4
    drugs = {ln.hilist_code for ln in lines if ln.is_drug}
    assert drugs and history.lines
    assert {pl.hilist_code for pl in history.lines} <= drugs | {"250302003000000"}
    assert all(pl.fee_ocur_time.date() >= date(2025, 1, 1) for pl in history.lines)
    # HbA1c (at most 4 a year) was billed every few weeks: the yearly count comes from history
    assert any(h.category == "frequency_limit" and "每年" in h.reason for h in hits)
