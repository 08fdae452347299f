"""The bulk load's in-order window over the worker pool: results come back in chunk order,
at most `window` chunks are in flight once the head start is used up, and the head start lets
`window + extra` go at once (the workers settle ahead while the writer writes the persons)."""

from __future__ import annotations

from typing import Any

from yibao.simulate import bulk


class _Done:
    def __init__(self, value: Any) -> None:
        self.value = value

    def get(self) -> Any:
        return self.value


class _Pool:
    """Runs each task at once and records how many were submitted and not yet collected."""

    def __init__(self) -> None:
        self.submitted: list[int] = []

    def apply_async(self, _fn: Any, args: tuple[Any, ...]) -> _Done:
        (chunk,) = args  # a task is the chunk's number (the workers hold the chunks)
        self.submitted.append(chunk)
        return _Done(chunk)


def test_results_come_in_chunk_order_within_the_window() -> None:
    pool = _Pool()
    results = bulk._InOrder(pool, 20, window=3)
    seen = []
    for value in results:
        seen.append(value)
        # collected so far + in flight: never more than the window ahead of the consumer
        assert len(pool.submitted) - len(seen) <= 3
    assert seen == list(range(20))


def test_a_head_start_lets_more_go_then_the_window_holds_again() -> None:
    pool = _Pool()
    results = bulk._InOrder(pool, 40, window=3)
    results.start(10)
    assert len(pool.submitted) == 13  # before the first result is collected
    seen = []
    for value in results:
        seen.append(value)
        in_flight = len(pool.submitted) - len(seen)
        # the head start drains as results are collected; the window then holds at 3
        assert in_flight == min(max(13 - len(seen), 3), 40 - len(seen))
    assert seen == list(range(40))


def test_the_head_start_grows_with_the_city_up_to_a_bound() -> None:
    assert bulk.head_start(8) == 0
    assert bulk.head_start(160) == 10
    assert bulk.head_start(500) == 31
    assert bulk.head_start(1000) == 32
    assert bulk.head_start(100_000) == 32


def test_it_says_when_every_chunk_is_with_the_workers() -> None:
    pool = _Pool()
    results = bulk._InOrder(pool, 10, window=3)
    seen = []
    for value in results:
        seen.append(value)
        # the tenth chunk goes out when the seventh result is collected
        assert results.all_dispatched == (len(seen) >= 7)
    assert seen == list(range(10))
