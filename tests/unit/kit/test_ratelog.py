"""Repeated identical failures are logged once per interval with a count (issue 23)."""

from __future__ import annotations

import logging

import pytest

from yibao.kit.ratelog import RateLimitedLog


def test_first_then_once_per_interval_with_count(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    limited = RateLimitedLog(logging.getLogger("t.ratelog"), interval_s=10, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="t.ratelog"):
        assert limited.report("k", "db down")
        for _ in range(499):
            now[0] += 0.01
            assert not limited.report("k", "db down")
        assert limited.report("other", "another failure")  # keys are counted apart
        now[0] = 111.0
        assert limited.report("k", "db down")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["db down", "another failure", "db down (499 more times in the last 10 s)"]


def test_clear_logs_the_next_at_once(caplog: pytest.LogCaptureFixture) -> None:
    limited = RateLimitedLog(logging.getLogger("t.ratelog2"), interval_s=60, clock=lambda: 5.0)
    with caplog.at_level(logging.WARNING, logger="t.ratelog2"):
        limited.report("k", "x")
        limited.clear("k")
        assert limited.report("k", "x")
    assert len(caplog.records) == 2


def test_flush_counts_what_the_last_interval_held(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limited = RateLimitedLog(logging.getLogger("t.ratelog3"), interval_s=10, clock=lambda: now[0])
    assert not limited.active
    with caplog.at_level(logging.WARNING, logger="t.ratelog3"):
        limited.report("k", "db down")
        for _ in range(7):
            now[0] += 1
            limited.report("k", "db down")
        limited.report("q", "quiet")  # reported once, nothing more to count
        assert limited.active
        assert limited.flush() == 2
        assert not limited.active
        assert limited.flush() == 0
        assert limited.report("k", "db down")  # a new outage: logged at once
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["db down", "quiet", "db down (7 more times before it ended)", "db down"]
