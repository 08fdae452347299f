"""Viewers share one dashboard computation within their staleness bound; strong reads never
reuse one."""

import threading
import time
from datetime import date
from typing import Any

from yibao.analytics.service import Answer
from yibao.analytics.shared import SharedDashboard


class FakeAnalytics:
    """Counts computations; the store's latest seq moves as the test says."""

    def __init__(self) -> None:
        self.computed = 0
        self.latest = 10
        self.slow = 0.0
        #: the replica's lag a bounded computation finds (ms)
        self.replica_lag_ms = 0
        self.asked: list[tuple[str, int]] = []

    def dashboard(self, day: date | None, *, consistency: str, max_lag_ms: int) -> Answer:
        self.asked.append((consistency, max_lag_ms))
        self.computed += 1
        time.sleep(self.slow)
        lag = self.replica_lag_ms if consistency == "bounded" else 0
        return Answer("dashboard", self.latest, 0, lag, consistency, data={"n": self.computed})

    def position(self) -> dict[str, Any]:
        return {"seq": self.latest, "latest_seq": self.latest, "lag_rows": 0, "lag_ms": 0}


DAY = date(2026, 11, 25)


def test_bounded_viewers_share_one_computation_and_say_how_stale_it_is() -> None:
    fake = FakeAnalytics()
    shared = SharedDashboard(fake)  # type: ignore[arg-type]
    first = shared.get(DAY, consistency="bounded", max_lag_ms=60_000)
    fake.latest = 13  # three settlements commit
    again = shared.get(DAY, consistency="bounded", max_lag_ms=60_000)
    assert fake.computed == 1
    assert again.data == first.data
    assert again.consistency == "bounded"
    assert again.lag_rows == 3
    assert again.lag_ms >= first.lag_ms


def test_an_answer_older_than_the_bound_is_recomputed() -> None:
    fake = FakeAnalytics()
    shared = SharedDashboard(fake)  # type: ignore[arg-type]
    shared.get(DAY, consistency="bounded", max_lag_ms=0)
    time.sleep(0.01)
    shared.get(DAY, consistency="bounded", max_lag_ms=0)
    assert fake.computed == 2


def test_strong_reads_always_compute() -> None:
    fake = FakeAnalytics()
    shared = SharedDashboard(fake)  # type: ignore[arg-type]
    shared.get(DAY, consistency="bounded", max_lag_ms=60_000)
    answer = shared.get(DAY, consistency="strong")
    assert fake.computed == 2
    assert answer.consistency == "strong"


def test_concurrent_bounded_viewers_wait_for_one_flight() -> None:
    fake = FakeAnalytics()
    fake.slow = 0.2
    shared = SharedDashboard(fake)  # type: ignore[arg-type]
    answers: list[Answer] = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(shared.get(DAY, consistency="bounded", max_lag_ms=60_000))
        )
        for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 5
    assert fake.computed == 1


def test_a_viewer_who_waited_on_a_slow_computation_takes_its_result() -> None:
    # The computation takes longer than the bound; viewers who arrived while it ran take its
    # answer (its snapshot is younger than their requests) instead of computing again.
    fake = FakeAnalytics()
    fake.slow = 0.8
    shared = SharedDashboard(fake)  # type: ignore[arg-type]
    first = threading.Thread(target=lambda: shared.get(DAY, consistency="bounded", max_lag_ms=500))
    first.start()
    time.sleep(0.05)
    answers: list[Answer] = []
    late = [
        threading.Thread(
            target=lambda: answers.append(shared.get(DAY, consistency="bounded", max_lag_ms=500))
        )
        for _ in range(3)
    ]
    for t in late:
        t.start()
    first.join()
    for t in late:
        t.join()
    assert fake.computed == 1
    assert len(answers) == 3


def test_bounded_viewers_compute_within_half_their_bound_and_count_the_replica_lag() -> None:
    fake = FakeAnalytics()
    fake.replica_lag_ms = 200
    shared = SharedDashboard(fake)  # type: ignore[arg-type]
    first = shared.get(DAY, consistency="bounded", max_lag_ms=500)
    assert fake.asked == [("bounded", 250)]
    assert first.lag_ms >= 200
    # an answer whose replica lag plus age exceeds the bound does not serve
    fake.replica_lag_ms = 600
    shared.get(DAY, consistency="bounded", max_lag_ms=700)  # 200 + age <= 700: served
    assert fake.computed == 1
    time.sleep(0.02)
    shared.get(DAY, consistency="bounded", max_lag_ms=210)  # 200 + 20 > 210: computed again
    assert fake.computed == 2
    assert shared.get(DAY, consistency="strong").lag_ms == 0
    assert fake.asked[-1] == ("strong", 0)
