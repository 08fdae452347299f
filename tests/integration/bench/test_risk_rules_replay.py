"""The `rules` detector replays the real-time rule base over a settled city: its hits name
registered categories and visits of the store, line hits name the bill's own fee lines, a
history rule never sees a visit that came later; a settlement reversed later was reviewed
when it was settled; lines come in the order they were uploaded and a visit with every one of
its diagnoses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from yibao.bench.risk_rules_replay import (
    RulesReplay,
    _before,
    diagnoses,
    settled_visits,
    upload_order,
)
from yibao.risk.model import History, PastVisit
from yibao.risk.registry import CATEGORIES
from yibao.runtime import Platform
from yibao.simulate.demo import load_demo, load_history
from yibao.simulate.replica_load import replica_for_load
from yibao.storage.tables import diag, fee_detail, mdtrt, setl


def test_the_replay_names_registered_categories_and_real_lines(platform: Platform) -> None:
    load_demo(platform.db.engine, platform.settings.data_dir, persons=400)
    with replica_for_load(platform.settings) as replica:
        load_history(platform.db.engine, platform.settings.data_dir, replica, persons=400, days=40)
    hits = list(RulesReplay(platform.settings, platform.db.engine)())
    assert hits
    with platform.db.engine.connect() as conn:
        visits = set(conn.execute(select(mdtrt.c.mdtrt_id)).scalars())
        lines = {
            (r[0], r[1])
            for r in conn.execute(select(fee_detail.c.mdtrt_id, fee_detail.c.feedetl_sn))
        }
    for h in hits:
        assert h.category in CATEGORIES and h.mdtrt_id in visits
        if h.feedetl_sn is not None:
            assert (h.mdtrt_id, h.feedetl_sn) in lines
    with platform.db.engine.connect() as conn:
        replayed = {v["mdtrt_id"] for v in settled_visits(conn)}
        reversed_ = set(conn.execute(select(setl.c.mdtrt_id).where(setl.c.vali_flag == "0")))
        settled = set(conn.execute(select(setl.c.mdtrt_id)).scalars())
        secondary = conn.execute(
            select(diag.c.mdtrt_id, diag.c.diag_code).where(diag.c.diag_srt_no > 1)
        ).first()
        assert secondary is not None  # a stay records its chronic conditions too
        visit = next(v for v in settled_visits(conn) if v["mdtrt_id"] == secondary[0])
        assert secondary[1] in diagnoses(conn, visit)
        assert diagnoses(conn, visit)[0] == visit["maindiag_code"]
    assert replayed == settled  # every settled visit, a reversed one too
    assert reversed_ and {r[0] for r in reversed_} <= replayed, len(reversed_)


def test_lines_are_replayed_in_the_order_they_were_uploaded() -> None:
    """feedetl_sn is a serial number: "8" came before "12" (the store's text order would put
    "12" first, and the duplicate would be taken for the original); an earlier upload first."""
    first, later = datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 10)
    rows = [
        {"feedetl_sn": sn, "created_at": at}
        for sn, at in (("12", first), ("8", first), ("1", later), ("A2", first), ("9", first))
    ]
    ordered = [r["feedetl_sn"] for r in sorted(rows, key=upload_order)]
    assert ordered == ["8", "9", "12", "A2", "1"]


def test_history_is_cut_at_the_bill() -> None:
    def visit(mdtrt_id: str, day: int) -> PastVisit:
        return PastVisit(mdtrt_id=mdtrt_id, fixmedins_code="H1", scene="outpatient",
                         med_type="11", begntime=datetime(2026, 1, day, 9), endtime=None,
                         main_diag=None)  # fmt: skip

    history = History(visits=(visit("A", 1), visit("B", 5), visit("C", 9)), lines=(), stock=None)
    cut = _before(history, datetime(2026, 1, 5, 9), "B")
    assert [v.mdtrt_id for v in cut.visits] == ["A"]
