"""The `rules` detector replays the real-time rule base over a settled city: its hits name
registered categories and visits of the store, line hits name the bill's own fee lines, and
a history rule never sees a visit that came later."""

from __future__ import annotations

from sqlalchemy import select

from yibao.bench.risk_rules_replay import RulesReplay, _before
from yibao.risk.model import History, PastVisit
from yibao.risk.registry import CATEGORIES
from yibao.runtime import Platform
from yibao.simulate.demo import load_demo, load_history
from yibao.simulate.replica_load import replica_for_load
from yibao.storage.tables import fee_detail, mdtrt


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


def test_history_is_cut_at_the_bill() -> None:
    from datetime import datetime

    def visit(mdtrt_id: str, day: int) -> PastVisit:
        return PastVisit(mdtrt_id=mdtrt_id, fixmedins_code="H1", scene="outpatient",
                         med_type="11", begntime=datetime(2026, 1, day, 9), endtime=None,
                         main_diag=None)  # fmt: skip

    history = History(visits=(visit("A", 1), visit("B", 5), visit("C", 9)), lines=(), stock=None)
    cut = _before(history, datetime(2026, 1, 5, 9), "B")
    assert [v.mdtrt_id for v in cut.visits] == ["A"]
