"""Sign-in throttling: too many failed sign-ins for one account, or from one address, lock
further attempts out for a while.

A password guesser gets `USER_LIMIT` tries per account and `ADDRESS_LIMIT` per address in any
`WINDOW`; beyond that every attempt is refused for `LOCKOUT` without the password being
checked (so the slow Argon2 check cannot be used to load the server either). A successful
sign-in clears the account's failures. The counters live in the serving process: a
deployment with several gateway processes gives each its own (they still bound the rate).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

USER_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = 15 * 60.0
LOCKOUT = 5 * 60.0
#: keys kept at most (old ones are dropped first): bounds memory under a spray of usernames
MAX_KEYS = 100_000


@dataclass
class _Record:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        *,
        user_limit: int = USER_LIMIT,
        address_limit: int = ADDRESS_LIMIT,
        window: float = WINDOW,
        lockout: float = LOCKOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"user": user_limit, "address": address_limit}
        self.window = window
        self.lockout = lockout
        self.clock = clock
        self._records: dict[tuple[str, str], _Record] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, address: str | None) -> list[tuple[str, str]]:
        keys = [("user", username.strip().lower())]
        if address:
            keys.append(("address", address))
        return keys

    def locked_for(self, username: str, address: str | None) -> float:
        """Seconds the attempt must still wait (0: it may go ahead)."""
        now = self.clock()
        with self._lock:
            waits = [
                record.locked_until - now
                for key in self._keys(username, address)
                if (record := self._records.get(key)) is not None
            ]
        return max([0.0, *waits])

    def failed(self, username: str, address: str | None) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(username, address):
                record = self._records.pop(key, None) or _Record()
                self._records[key] = record  # most recently used last
                failures = record.failures
                failures.append(now)
                while failures and failures[0] <= now - self.window:
                    failures.popleft()
                if len(failures) >= self.limits[key[0]]:
                    record.locked_until = now + self.lockout
                    failures.clear()
            while len(self._records) > MAX_KEYS:
                self._records.pop(next(iter(self._records)))

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._records.pop(("user", username.strip().lower()), None)
