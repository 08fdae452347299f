"""The driver's cast: institutions (with their gateway credentials), persons and catalog items
from `<data_dir>/demo-fixtures.json`, written by `yibao demo`."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yibao.errors import ConfigError
from yibao.kit.jsonx import loads

if TYPE_CHECKING:
    from yibao.bench.cast import Cast

FIXTURES_FILE = "demo-fixtures.json"
#: the demo city's pooling region; persons insured elsewhere are 异地就医 visitors
HOME_REGION = "110199"
#: share of flows that pick a person insured in another region: the city's own share (one
#: person in 25, `simulate.names.REMOTE_EVERY`), although the fixtures list every such person
REMOTE_SHARE = 0.04


@dataclass(frozen=True)
class Fixtures:
    institutions: list[dict[str, Any]]
    persons: list[dict[str, Any]]
    catalog_items: list[dict[str, Any]]
    #: the console user of the agency (`username`, `password`): analytic calls sign in with it
    agency: dict[str, Any] | None = None
    #: the persons this run enrolled for itself (`bench.cast`); None: the fixtures' persons
    cast: Cast | None = None

    @cached_property
    def _local(self) -> list[dict[str, Any]]:
        found = [p for p in self.persons if p.get("insuplc_admdvs", HOME_REGION) == HOME_REGION]
        return found or self.persons

    @cached_property
    def _remote(self) -> list[dict[str, Any]]:
        return [p for p in self.persons if p.get("insuplc_admdvs", HOME_REGION) != HOME_REGION]

    def persons_for(self, rng: random.Random) -> list[dict[str, Any]]:
        """The persons a flow picks from: those insured elsewhere at `REMOTE_SHARE`, else the
        demo city's own."""
        if self._remote and rng.random() < REMOTE_SHARE:
            return self._remote
        return self._local

    def next_person(self, rng: random.Random) -> dict[str, Any]:
        """The person of the next flow: the run's own in turn, else one of the fixtures'."""
        if self.cast is not None:
            return self.cast.next()
        return rng.choice(self.persons_for(rng))

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [i for i in self.institutions if i["kind"] in kinds]

    @property
    def drugs(self) -> list[dict[str, Any]]:
        found = [c for c in self.catalog_items if str(c["list_type"]).startswith("10")]
        return found or self.catalog_items


def load_fixtures(data_dir: Path) -> Fixtures:
    path = data_dir / FIXTURES_FILE
    if not path.is_file():
        raise ConfigError(
            f"找不到演示数据 {path} (no fixtures: run `yibao demo` with this data directory, "
            "or pass --data-dir / YIBAO_DATA_DIR)"
        )
    try:
        doc = loads(path.read_bytes())
    except ValueError as exc:
        raise ConfigError(f"演示数据无法解析 {path}: {exc} (rerun `yibao demo`)") from None
    fx = Fixtures(doc["institutions"], doc["persons"], doc["catalog_items"], doc.get("agency"))
    if not fx.persons or not fx.catalog_items or not fx.of_kind("hospital", "clinic"):
        raise ConfigError(f"演示数据不完整 {path} (rerun `yibao demo`)")
    for item in fx.catalog_items:
        item["price"] = Decimal(str(item["price"]))
    return fx
