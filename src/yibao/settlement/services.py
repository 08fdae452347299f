"""What the settlement use cases take from the running platform: the policy book, the catalog
cache and the region's mapping rule (typed attributes of `yibao.runtime.Platform`)."""

from __future__ import annotations

from typing import Any

from yibao.catalog.cache import CatalogCache
from yibao.catalog.mapping import MappingRule
from yibao.policy import PolicyBook


def book(platform: Any) -> PolicyBook:
    found: PolicyBook = platform.book
    return found


def catalog(platform: Any) -> CatalogCache:
    found: CatalogCache = platform.catalog
    return found


def mapping_rule(platform: Any) -> MappingRule | None:
    found: MappingRule | None = platform.mapping_rule
    return found
