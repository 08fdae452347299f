"""The running platform: what one process builds at start-up and hands to every edge.

Built by `open_platform(settings)` in the composition roots (`api.app.create_app`, the CLI);
never at import time. Every part is a typed attribute: the row store, the id generator, the
policy book, the catalog cache, the region's mapping rule, the login throttle and — while a
server owns them (`serve_replica` … `stop_replica`) — the columnar replica, the analytics
over it and the dashboard answer its viewers share.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from yibao.analytics.service import Analytics
from yibao.analytics.shared import SharedDashboard
from yibao.catalog.cache import CatalogCache
from yibao.catalog.mapping import MappingRule
from yibao.config import Settings
from yibao.feed.publisher import FeedPublisher
from yibao.feed.service import open_feed
from yibao.kit import clock
from yibao.kit.ids import IdGenerator
from yibao.policy import PolicyBook, load_book
from yibao.replica.lifecycle import ServedReplica, open_replica
from yibao.replica.lock import OwnerLock
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.service import Replica
from yibao.replica.tiflash import TiFlashReplica
from yibao.review import posthoc
from yibao.review.service import Reviewer
from yibao.risk import RuleSet, load_ruleset
from yibao.storage.database import Database
from yibao.users.throttle import LoginThrottle

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Platform:
    settings: Settings
    db: Database
    ids: IdGenerator
    #: the catalog's version-keyed cache of terms
    catalog: CatalogCache = field(default_factory=CatalogCache)
    #: the region's rule for local codes without an approved 目录对照 (None: not required)
    mapping_rule: MappingRule | None = None
    #: console sign-in throttling policy (its counters live in the row store)
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    #: set while this process serves the columnar replica (DuckDB) or TiFlash; None otherwise
    replica: Replica | None = None
    tiflash: TiFlashReplica | None = None
    analytics: Analytics | None = None
    #: the dashboard answer shared by every viewer (bounded-staleness reads)
    dashboard: SharedDashboard | None = None
    #: the change feed's publisher, while this process serves the replica and a feed is set
    feed: FeedPublisher | None = None
    #: the nightly post-hoc run, while this process serves the DuckDB replica
    risk_schedule: posthoc.Schedule | None = None
    _served: ServedReplica | None = field(default=None, repr=False)
    _book: PolicyBook | None = field(default=None, repr=False)
    _book_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _reviewer: Reviewer | None = field(default=None, repr=False)

    @property
    def reviewer(self) -> Reviewer:
        """The rule set (packaged and the data directory's `risk/*.toml`, loaded on first use;
        `yibao serve` loads it at start so a bad file stops it) and the knowledge base."""
        found = self._reviewer
        if found is None:
            with self._book_lock:
                found = self._reviewer
                if found is None:
                    found = self._reviewer = Reviewer(
                        load_ruleset([self.settings.data_dir]),
                        enabled=self.settings.review,
                        reuse=self.db.is_sqlite,
                    )
        return found

    def use_ruleset(self, ruleset: RuleSet, *, enabled: bool | None = None) -> None:
        """Replace the rule set (tests; a reload after new parameter files)."""
        on = self.settings.review if enabled is None else enabled
        self._reviewer = Reviewer(ruleset, enabled=on, reuse=self.db.is_sqlite)

    @property
    def book(self) -> PolicyBook:
        """The policy book (loaded from the packaged and the data directory's parameter
        files on first use)."""
        found = self._book
        if found is None:
            with self._book_lock:
                found = self._book
                if found is None:
                    found = self._book = load_book([self.settings.data_dir])
        return found

    @book.setter
    def book(self, value: PolicyBook) -> None:
        """Replace the policy book (tests; a reload after new parameter files)."""
        self._book = value

    @property
    def replica_lock(self) -> OwnerLock | None:
        """The owner lock of the data directory's replica, while this process holds it."""
        return self._served.lock if self._served is not None else None

    def serve_replica(self) -> None:
        """Take up the columnar replica (DuckDB under its owner lock, or TiFlash on TiDB) and
        compose the analytics over it; a no-op when this process serves none."""
        served = open_replica(self.settings, self.db)
        if served is None:
            return
        self._served = served
        if served.tiflash is not None:
            analytics = Analytics(rowstore=served.tiflash.engine, tiflash=served.tiflash)
        else:
            assert served.replica is not None
            analytics = Analytics(rowstore=served.replica.source, replica=served.replica)
        self.replica = served.replica
        self.tiflash = served.tiflash
        self.analytics = analytics
        self.dashboard = SharedDashboard(analytics)
        self.serve_feed()
        self.serve_risk_schedule()

    def serve_risk_schedule(self) -> None:
        """The nightly post-hoc run (YIBAO_RISK_SCHEDULE, docs/monitoring.md) in the process
        that owns the DuckDB replica."""
        at = self.settings.risk_schedule
        if at == "off" or self.replica is None or self.risk_schedule is not None:
            return
        self.risk_schedule = posthoc.Schedule(self.replica, lambda: self.reviewer.ruleset, at)
        self.risk_schedule.start()

    def serve_feed(self) -> None:
        """Start the change feed (`YIBAO_FEED_URL`, docs/feed.md) in the process that serves
        the replica — one publisher per platform — with the replica's pseudonyms."""
        if not self.settings.feed_url or self.feed is not None:
            return
        # the replica's own (read once with its file); TiDB has no DuckDB replica
        pseudonyms = (
            self.replica.store.pseudonyms
            if self.replica is not None
            else Pseudonyms.for_dir(self.settings.data_dir)
        )

        def pseudonym(psn_no: str) -> str:
            return pseudonyms.ref(psn_no) or ""

        self.feed = open_feed(self.settings, self.db.engine, pseudonym)
        if self.feed is not None:
            self.feed.start()

    def stop_replica(self) -> None:
        """Put the replica down (stop the applier, release the lock); analytics and the change
        feed go with it."""
        feed, self.feed = self.feed, None
        if feed is not None:
            feed.stop()
        schedule, self.risk_schedule = self.risk_schedule, None
        if schedule is not None:
            schedule.stop()
        self.replica = self.tiflash = self.analytics = None
        self.dashboard = None
        served, self._served = self._served, None
        if served is not None:
            served.close()

    def close(self) -> None:
        try:
            self.catalog.close()
        except Exception:
            log.exception("closing the catalog cache failed")
        self.db.close()


def open_platform(settings: Settings) -> Platform:
    clock.set_zone(settings.timezone)
    db = Database(settings)
    return Platform(settings=settings, db=db, ids=IdGenerator(settings.node_id))
