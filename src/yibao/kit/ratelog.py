"""A rate-limited logger for repeated identical failures.

A row store that is down fails every call the same way; logging each one with its traceback
filled the log during an outage (issue 23). `RateLimitedLog.report` logs the first occurrence of
a key at once, then at most once per interval with the number of occurrences since the last line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class RateLimitedLog:
    """Logs a keyed message at most once per `interval_s`, with a count of the suppressed ones."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (time of the last line, occurrences since it, the message)
        self._seen: dict[str, tuple[float, int, str]] = {}

    def report(self, key: str, message: str, *, level: int = logging.WARNING) -> bool:
        """Count one occurrence of `key`; log it when the interval has passed. True if logged."""
        now = self._clock()
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last[0] < self._interval:
                self._seen[key] = (last[0], last[1] + 1, message)
                return False
            suppressed = last[1] if last is not None else 0
            self._seen[key] = (now, 0, message)
        if suppressed:
            self._logger.log(
                level, "%s (%d more times in the last %.0f s)", message, suppressed, self._interval
            )
        else:
            self._logger.log(level, "%s", message)
        return True

    @property
    def active(self) -> bool:
        """Some key was reported and not flushed or cleared since (cheap; no lock)."""
        return bool(self._seen)

    def flush(self, *, level: int = logging.WARNING) -> int:
        """The failures are over: log each key's occurrences not yet counted in a line (so the
        counts add up to every occurrence), then forget every key. Returns how many keys."""
        with self._lock:
            seen, self._seen = self._seen, {}
        for _at, suppressed, message in seen.values():
            if suppressed:
                self._logger.log(level, "%s (%d more times before it ended)", message, suppressed)
        return len(seen)

    def clear(self, key: str) -> None:
        """Forget `key` (the failure is over): its next occurrence is logged at once."""
        with self._lock:
            self._seen.pop(key, None)
