"""One dashboard computation shared by every viewer.

Each signed-in viewer of the T+0 page refreshes the whole dashboard every second. Computed per
viewer, five viewers cost five full dashboards a second, taken from the same two cores that
settle (the `interference` benchmark measures exactly that). The page therefore asks for a
**bounded-staleness** answer: a dashboard computed (strongly) at most `max_lag_ms` ago is
served again to every viewer, marked `bounded`, with its true age added to `lag_ms` and the
rows committed since in `lag_rows`. Staleness is measured against the viewer's request: an
answer whose computation started before the request by at most the bound, or after it, serves.
One viewer computes (single flight); the others wait for that result instead of computing
their own. Strong requests always compute afresh.

A computation for bounded viewers is itself a bounded read within half their bound: the
applier catches up on its own every few hundred milliseconds, so most computations need not
force an extra micro-batch (a strong read does, and twice a second those batches cost the
settling path as much as the queries). An answer's staleness is then its replica lag at the
start plus its age, and it serves only while that sum is within the viewer's bound.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date

from yibao.analytics.service import Analytics, Answer
from yibao.kit import clock
from yibao.replica.service import BOUNDED, STRONG


class SharedDashboard:
    def __init__(self, analytics: Analytics) -> None:
        self._analytics = analytics
        self._lock = threading.Lock()
        #: day → (monotonic time the computation started, its answer)
        self._cache: dict[date, tuple[float, Answer]] = {}

    def get(self, day: date | None, *, consistency: str = STRONG, max_lag_ms: int = 1000) -> Answer:
        key = day or clock.now().date()
        if consistency != BOUNDED:
            return self._compute(key, day, STRONG, 0)
        arrived = time.monotonic()
        served = self._fresh_enough(key, max_lag_ms, arrived)
        if served is not None:
            return served
        with self._lock:
            # A computation that started while this viewer waited serves it too: its
            # snapshot is younger than the viewer's request.
            served = self._fresh_enough(key, max_lag_ms, arrived)
            if served is not None:
                return served
            return self._compute(key, day, BOUNDED, max_lag_ms // 2)

    def _compute(self, key: date, day: date | None, consistency: str, lag_ms: int) -> Answer:
        started = time.monotonic()
        answer = self._analytics.dashboard(day, consistency=consistency, max_lag_ms=lag_ms)
        self._cache[key] = (started, answer)
        return answer

    def _fresh_enough(self, key: date, max_lag_ms: int, arrived: float) -> Answer | None:
        hit = self._cache.get(key)
        if hit is None:
            return None
        started, answer = hit
        # The answer saw every commit made `answer.lag_ms` before `started`; to a request that
        # arrived at `arrived` it is that much older again — no older if it started later.
        age_ms = max(0, int((arrived - started) * 1000))
        if answer.lag_ms + age_ms > max_lag_ms:
            return None
        latest = self._analytics.position()["latest_seq"]
        return replace(
            answer,
            consistency=BOUNDED,
            lag_ms=answer.lag_ms + age_ms,
            lag_rows=max(0, int(latest) - answer.seq),
        )
