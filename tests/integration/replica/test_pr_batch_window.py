"""The applier's batch window means what its setting says under any load: one batch per
window while changes keep arriving, a backlog drains at once, and a strong read never waits
for the window. Driven through the loop's decisions (`Applier.cycle`) on a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import factories
from sqlalchemy import Engine

from yibao.config import Settings
from yibao.replica.applier import Applier
from yibao.replica.service import Replica


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _settle(engine: Engine, seeded: dict, i: int) -> None:
    with engine.begin() as conn:
        factories.settlement(
            conn,
            fixmedins_code="H11010100001",
            psn_no=seeded["employee"]["psn_no"],
            medfee=Decimal("10.00") + i,
            setl_time=datetime(2024, 6, 10, 8) + timedelta(minutes=7 * i),
        )


def _steady_stream(applier: Applier, engine: Engine, seeded: dict, *, ticks: int) -> list[int]:
    """A commit every 15.625 ms of fake time (1/64 s: exact in binary, 16 to a 250 ms window), each followed by the loop's decision (the writer
    wakes the applier after every commit); returns the tick of every batch."""
    clock = FakeClock()
    applier.clock = clock
    started: list[int] = []
    for i in range(ticks):
        _settle(engine, seeded, i)
        applier.wake()
        before = applier.stats.batches
        applier.cycle()
        if applier.stats.batches > before:
            started.append(i)
        clock.now += 1 / 64
    return started


def test_one_batch_per_window_under_a_steady_stream(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    replica = Replica.open(rs_settings.model_copy(update={"replica_batch_window_ms": 250}))
    try:
        applier = replica.applier
        before = applier.catch_up()
        assert applier.batch_window_s == 0.25
        started = _steady_stream(applier, rs_engine, seeded, ticks=80)  # 1.25 s
        # one batch per 250 ms window, not one per commit
        assert started == [0, 16, 32, 48, 64]
        per_commit = (replica.latest_seq() - before) // 80
        # the window's 16 commits in one batch
        assert applier.stats.last_batch_rows == 16 * per_commit
    finally:
        replica.close()


def test_without_a_window_every_wake_up_applies(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    replica = Replica.open(rs_settings.model_copy(update={"replica_batch_window_ms": 0}))
    try:
        replica.applier.catch_up()
        started = _steady_stream(replica.applier, rs_engine, seeded, ticks=12)
        assert started == list(range(12))
    finally:
        replica.close()


def test_a_backlog_drains_at_once_and_a_strong_read_ends_the_window(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    replica = Replica.open(rs_settings.model_copy(update={"replica_batch_window_ms": 10_000}))
    try:
        applier = replica.applier
        applier.clock = FakeClock()
        applier.batch_rows = 5
        for i in range(10):
            _settle(rs_engine, seeded, i)
        # a backlog (the seeded city and ten more): full batches ask to go on at once
        decisions = []
        while (rest := applier.cycle()) == 0.0:
            decisions.append(rest)
        assert replica.latest_seq() % 5, "the backlog must end with a partial batch"
        assert len(decisions) == replica.latest_seq() // 5
        assert rest == 10.0  # the last, partial batch opens the window
        assert applier.store.applied_seq == replica.latest_seq()
        # inside the window a commit waits for it ...
        _settle(rs_engine, seeded, 99)
        assert applier.cycle() == 10.0
        assert applier.store.applied_seq < replica.latest_seq()
        # ... but a strong read forces the batch (what `wait_for` does for its thread)
        applier.force()
        assert applier.cycle() == 10.0
        assert applier.store.applied_seq == replica.latest_seq()
    finally:
        replica.close()


def test_a_strong_read_does_not_wait_for_the_running_loops_window(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    # a ten-minute window and poll: only the forced catch-up can answer within the timeout
    replica = Replica.open(
        rs_settings.model_copy(
            update={"replica_batch_window_ms": 600_000, "replica_poll_ms": 600_000}
        )
    )
    try:
        replica.start()
        _settle(rs_engine, seeded, 1)
        replica.applier.wait_for(replica.latest_seq(), timeout=60)  # opens the window
        _settle(rs_engine, seeded, 2)
        replica.applier.wake()
        target = replica.latest_seq()
        assert replica.applier.wait_for(target, timeout=60) == target
    finally:
        replica.close()


def test_the_window_runs_from_a_batch_s_start(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    """A batch that took 40 ms of a 150 ms window leaves 110 ms to wait: batches start every
    window, whatever they cost (freshness is bounded by one window plus one batch)."""
    replica = Replica.open(rs_settings.model_copy(update={"replica_batch_window_ms": 150}))
    try:
        applier = replica.applier
        clock = FakeClock()
        real_step = applier.step

        def slow_step(limit: int | None = None) -> int:
            done = real_step(limit) if limit is not None else real_step()
            clock.now += 0.040  # the batch's own time
            return done

        applier.clock = clock
        applier.step = slow_step  # type: ignore[method-assign]
        applier.cycle()  # the seeded city: the first batch
        _settle(rs_engine, seeded, 1)
        clock.now += 0.150
        rest = applier.cycle()
        assert rest is not None and abs(rest - 0.110) < 1e-9
    finally:
        replica.close()
