"""The applier against a real row store (SQLite; MariaDB with `mysql`): exactly-once apply,
strong and bounded reads, wake-ups from the writer, verify."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal

import factories
from sqlalchemy import Engine, func, select

from yibao.analytics.registry import registry
from yibao.analytics.service import Analytics, dashboard_queries
from yibao.config import Settings
from yibao.replica.service import BOUNDED, Replica
from yibao.replica.verify import verify
from yibao.runtime import open_platform
from yibao.storage.tables import change_log

PERIOD = {"date_from": "2024-05-01", "date_to": "2024-06-30"}


def _params(name: str) -> dict[str, str]:
    if name == "settlements":
        return {**PERIOD, "fixmedins_code": "H11010100001"}
    return dict(PERIOD)


def test_replica_answers_equal_the_row_store_for_every_query(
    replica: Replica, seeded: dict
) -> None:
    analytics = Analytics(rowstore=replica.source, replica=replica)
    for name in registry():
        on_replica = analytics.run_on_replica(name, _params(name))
        on_rows = analytics.run_on_rowstore(name, _params(name))
        assert on_replica.data == on_rows.data, name
        assert on_replica.seq == on_rows.seq == replica.latest_seq()
        assert on_replica.consistency == "strong" and on_replica.lag_rows == 0


def test_the_dashboard_s_shared_scans_answer_as_each_panel_s_own_query(
    replica: Replica, seeded: dict
) -> None:
    analytics = Analytics(rowstore=replica.source, replica=replica)
    items = dashboard_queries(date(2024, 6, 30))
    _meta, panels = analytics.run_many(items)
    assert list(panels) == [panel for panel, _name, _params in items]
    for panel, name, params in items:
        assert panels[panel] == analytics.run_on_rowstore(name, params).data, panel
        assert panels[panel], panel


def test_reversals_net_out_on_the_day_they_are_booked(replica: Replica, seeded: dict) -> None:
    analytics = Analytics(rowstore=replica.source, replica=replica)
    days = {r["key"]: r for r in analytics.run_on_replica("by_day", PERIOD).data}
    assert days["2024-06-03"]["setl_cnt"] == 1 and days["2024-06-03"]["medfee_sumamt"] == Decimal(
        "123.45"
    )
    assert days["2024-06-05"]["setl_cnt"] == -1 and days["2024-06-05"]["medfee_sumamt"] == Decimal(
        "-123.45"
    )
    total = analytics.run_on_replica("summary", PERIOD).data[0]
    assert total["setl_cnt"] == 2
    assert total["medfee_sumamt"] == Decimal("5088.80")
    assert total["psn_cnt"] == 1  # the employee's only settlement was reversed
    assert total["ipt_cnt"] == 1 and total["avg_los"] == Decimal("6.00")


def test_verify_agrees_then_catches_a_difference(replica: Replica, seeded: dict) -> None:
    report = verify(replica.store, replica.source, replica.applier.catch_up)
    assert report.ok, [c.as_dict() for c in report.checks if not c.ok]
    cur = replica.store.cursor()
    cur.execute(
        "UPDATE setl_fact SET medfee_sumamt = medfee_sumamt + 0.01 WHERE setl_id = ?",
        [seeded["reversed"]["setl_id"]],
    )
    cur.close()
    report = verify(replica.store, replica.source, replica.applier.catch_up)
    assert not report.ok
    assert {c.name for c in report.checks if not c.ok} >= {"setl.medfee_sumamt"}


def test_strong_read_sees_a_commit_made_just_before(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    replica = Replica.open(rs_settings.model_copy(update={"replica_poll_ms": 600_000}))
    try:
        replica.applier.catch_up()
        replica.start()  # a thread that would not poll again for ten minutes
        with rs_engine.begin() as conn:
            new = factories.settlement(
                conn,
                fixmedins_code="H11010100001",
                psn_no=seeded["employee"]["psn_no"],
                medfee=Decimal("77.70"),
                setl_time=datetime(2024, 6, 20, 10),
            )
        analytics = Analytics(rowstore=replica.source, replica=replica)
        # bounded within an hour: no wait, and the answer says how far behind it is
        stale = analytics.run_on_replica(
            "summary", PERIOD, consistency=BOUNDED, max_lag_ms=3_600_000
        )
        assert stale.consistency == "bounded"
        assert stale.lag_rows == 2 and stale.seq == replica.latest_seq() - 2
        # strong: forces the catch-up and sees the settlement
        fresh = analytics.run_on_replica(
            "settlements", {**PERIOD, "fixmedins_code": "H11010100001"}
        )
        assert new["setl_id"] in {r["setl_id"] for r in fresh.data}
        assert fresh.lag_rows == 0 and fresh.seq == replica.latest_seq()
        # bounded with a zero bound behaves as strong
        assert (
            analytics.run_on_replica("summary", PERIOD, consistency=BOUNDED, max_lag_ms=0).lag_rows
            == 0
        )
    finally:
        replica.close()


def test_the_writer_wakes_the_applier(rs_settings: Settings, seeded: dict) -> None:
    platform = open_platform(rs_settings)
    replica = Replica.open(rs_settings.model_copy(update={"replica_poll_ms": 600_000}))
    try:
        replica.applier.catch_up()
        replica.start(platform.db.writer)
        target = platform.db.writer.run_sync(
            lambda conn: factories.settlement(
                conn, fixmedins_code="H11010100001", psn_no=seeded["employee"]["psn_no"]
            )
        )
        with replica.source.connect() as conn:
            latest = conn.execute(select(func.max(change_log.c.seq))).scalar_one()
        deadline = time.monotonic() + 30
        while replica.applier.stats.batches < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        # applied by the thread (its second batch), woken by the commit, not by polling
        assert replica.applier.stats.batches == 2
        assert replica.store.applied_seq == latest, target
    finally:
        replica.close()
        platform.close()


def test_applied_seq_survives_reopening(rs_settings: Settings, seeded: dict) -> None:
    first = Replica.open(rs_settings)
    first.applier.catch_up()
    seq = first.store.applied_seq
    counts = first.store.counts()
    first.close()
    again = Replica.open(rs_settings)
    try:
        assert again.store.applied_seq == seq > 0
        assert again.store.counts() == counts
        assert again.applier.step() == 0  # nothing applied twice
    finally:
        again.close()
