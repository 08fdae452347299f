"""What the settlement use cases keep per process: the policy book, the catalog cache and the
region's mapping rule.

Both live in `platform.services` (built at start-up by `install`, or on first use), never at
import time.
"""

from __future__ import annotations

import threading
from typing import Any

from yibao.catalog.cache import CatalogCache, cache_for
from yibao.catalog.mapping import MappingRule
from yibao.policy import PolicyBook, load_book

BOOK_KEY = "settlement.policy_book"
#: the region's 目录对照 rule (catalog.mapping.MappingRule); absent = no mapping required
MAPPING_RULE_KEY = "settlement.mapping_rule"
_lock = threading.Lock()


def install(platform: Any) -> None:
    """Load the policy book and create the catalog cache (idempotent)."""
    book(platform)
    catalog(platform)


def book(platform: Any) -> PolicyBook:
    found = platform.services.get(BOOK_KEY)
    if found is None:
        with _lock:
            found = platform.services.get(BOOK_KEY)
            if found is None:
                found = load_book([platform.settings.data_dir])
                platform.services[BOOK_KEY] = found
    return found  # type: ignore[no-any-return]


def set_book(platform: Any, value: PolicyBook) -> None:
    """Replace the policy book (tests; a reload after new parameter files)."""
    platform.services[BOOK_KEY] = value


def catalog(platform: Any) -> CatalogCache:
    """The catalog's version-keyed cache of terms (`yibao.catalog.cache`)."""
    return cache_for(platform)


def mapping_rule(platform: Any) -> MappingRule | None:
    """The region's rule for local codes without an approved mapping (None: not required)."""
    found = platform.services.get(MAPPING_RULE_KEY)
    return found if isinstance(found, MappingRule) else None
