"""`yibao demo`'s settlement history: the demo city's last days up to now, bulk-loaded for
the very persons `load_demo` wrote, nothing settled in the future, the replica in step, and a
second run changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from yibao.config import Settings
from yibao.kit.clock import local_naive_now
from yibao.replica.service import Replica
from yibao.replica.verify import verify
from yibao.simulate.demo import demo_params, demo_persons, load_demo, load_history
from yibao.simulate.model import Label
from yibao.simulate.replica_load import replica_for_load
from yibao.simulate.settle_rows import visit_ids
from yibao.storage.engine import make_engine
from yibao.storage.tables import mdtrt, psn, setl


def test_history_ends_now_and_keeps_the_demo_persons(settings: Settings) -> None:
    engine = make_engine(settings.db_url)
    try:
        load_demo(engine, settings.data_dir, persons=200)
        labels: list[Label] = []
        before = local_naive_now()
        with replica_for_load(settings) as replica:
            report = load_history(
                engine, settings.data_dir, replica, persons=200, days=30, labels_out=labels
            )
        after = local_naive_now()
        assert report is not None and report.refused == 0
        assert report.settlements > 100
        with engine.connect() as conn:
            first, last = conn.execute(
                select(func.min(setl.c.setl_time), func.max(setl.c.setl_time))
            ).one()
            assert first.date() >= (before - timedelta(days=30)).date()
            assert last <= after  # stays still going on are not settled
            # settled for the persons the demo wrote, with their stored attributes
            stored = {r.psn_no: r.gend for r in conn.execute(select(psn.c.psn_no, psn.c.gend))}
            people = {p.psn_no: p.gend for p in demo_persons(demo_params(200))}
            assert stored == people
            settled = set(conn.execute(select(setl.c.psn_no).distinct()).scalars())
            assert settled <= set(people)
            visits = set(conn.execute(select(mdtrt.c.mdtrt_id)).scalars())
        # a label names a visit the store holds
        for label in labels:
            if label.visit_no:
                assert visit_ids(label.visit_no)[0] in visits
        replica = Replica.open(settings)
        try:
            checked = verify(replica.store, replica.source, replica.applier.catch_up)
            assert checked.ok, [c.as_dict() for c in checked.checks if not c.ok]
        finally:
            replica.close()
        with replica_for_load(settings) as replica:
            assert load_history(engine, settings.data_dir, replica, persons=200, days=30) is None
    finally:
        engine.dispose()
