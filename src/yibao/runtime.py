"""The running platform: what one process builds at start-up and hands to every edge.

Built by `open_platform(settings)` in the composition roots (`api.app.create_app`, the CLI);
never at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from yibao.config import Settings
from yibao.kit import clock
from yibao.kit.ids import IdGenerator
from yibao.storage.database import Database

log = logging.getLogger(__name__)


@dataclass
class Platform:
    settings: Settings
    db: Database
    ids: IdGenerator
    #: services registered by the domains at start-up (policy book, catalog cache, replica …)
    services: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        for service in reversed(list(self.services.values())):
            closer = getattr(service, "close", None)
            if callable(closer):
                try:
                    closer()
                except Exception:
                    log.exception("closing %s failed", type(service).__name__)
        self.db.close()


def open_platform(settings: Settings) -> Platform:
    clock.set_zone(settings.timezone)
    db = Database(settings)
    return Platform(settings=settings, db=db, ids=IdGenerator(settings.node_id))
