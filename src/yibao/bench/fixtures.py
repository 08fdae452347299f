"""The driver's cast: institutions (with their gateway credentials), persons and catalog items
from `<data_dir>/demo-fixtures.json`, written by `yibao demo`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from yibao.errors import ConfigError
from yibao.kit.jsonx import loads

FIXTURES_FILE = "demo-fixtures.json"


@dataclass(frozen=True)
class Fixtures:
    institutions: list[dict[str, Any]]
    persons: list[dict[str, Any]]
    catalog_items: list[dict[str, Any]]
    #: the console user of the agency (`username`, `password`): analytic calls sign in with it
    agency: dict[str, Any] | None = None

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
