"""An in-process cache of catalog terms, keyed by the catalog version.

The cache keeps every effective term of each code it has been asked for, under the number of
the latest catalog version (`catalog_version.ver_no`) it saw. A settlement asking for codes it
has seen does no catalog query at all. Codes it has not seen are loaded with one query (all
their terms, so any fee time answers from memory next time; unknown codes are remembered as
unknown too).

Invalidation: applying a version in this process invalidates the cache when the transaction
commits (`importer.invalidate_on_commit`). Another process (the CLI, another gateway worker on
a MySQL-protocol store) may apply a version too, so the cache also re-reads the head version
number — one tiny query — at most every `recheck_seconds` (default 2 s), and drops everything
when it changed. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime

from sqlalchemy import Connection

from yibao.catalog import repo
from yibao.catalog.model import CatalogItem


class CatalogCache:
    def __init__(
        self,
        *,
        recheck_seconds: float = 2.0,
        max_codes: int = 500_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._recheck = recheck_seconds
        self._max_codes = max_codes
        self._clock = clock
        self._lock = threading.Lock()
        self._terms: dict[str, tuple[CatalogItem, ...]] = {}
        self._ver_no: int | None = None
        self._checked_at = float("-inf")
        #: counters for tests and the status page
        self.queries = 0
        self.head_checks = 0
        self.hits = 0

    @property
    def ver_no(self) -> int | None:
        return self._ver_no

    def invalidate(self) -> None:
        """Forget everything; the next call re-reads the head version."""
        with self._lock:
            self._terms.clear()
            self._ver_no = None
            self._checked_at = float("-inf")

    def _ensure_version(self, conn: Connection) -> None:
        now = self._clock()
        if self._ver_no is not None and now - self._checked_at < self._recheck:
            return
        head = repo.head_ver_no(conn)
        self.head_checks += 1
        with self._lock:
            if head != self._ver_no:
                self._terms.clear()
                self._ver_no = head
            self._checked_at = now

    def terms_at(
        self, conn: Connection, codes: Iterable[str], at: datetime | date
    ) -> dict[str, CatalogItem]:
        """Like `repo.terms_at`, from memory when it can."""
        wanted = set(codes)
        self._ensure_version(conn)
        day = at.date() if isinstance(at, datetime) else at
        with self._lock:
            missing = [c for c in wanted if c not in self._terms]
            known = {c: self._terms[c] for c in wanted if c in self._terms}
        if missing:
            loaded = repo.all_terms(conn, missing)
            self.queries += 1
            with self._lock:
                if len(self._terms) + len(missing) > self._max_codes:
                    self._terms.clear()
                for code in missing:
                    terms = tuple(loaded.get(code, ()))
                    self._terms[code] = terms
                    known[code] = terms
        else:
            self.hits += 1
        result: dict[str, CatalogItem] = {}
        for code, terms in known.items():
            for item in terms:
                if item.valid_on(day):
                    result[code] = item
                    break
        return result

    def close(self) -> None:
        self.invalidate()
