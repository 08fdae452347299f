"""The demo knowledge base (知识库) the synthetic city is built against: the thresholds its
injected anomalies cross and its near-misses stay within, read from one file
(`risk_kb_demo.json` beside this module) that the risk rules' knowledge base loads too.

Tables and columns are those `yibao kb import` takes (issue 18): `item_pairs`, `bundles`,
`price_limits`, `drug_limits`, `frequency_limits`, `windows`, `consumable_links`, plus
`outpatient_diagnoses` (the main diagnoses an admission is too low a threshold for).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final

#: the file, for the lead's wiring of the rules' knowledge base
KB_FILE: Final = Path(__file__).with_name("risk_kb_demo.json")


@dataclass(frozen=True, slots=True)
class DemoKB:
    tables: dict[str, Any]

    def window(self, key: str) -> dict[str, Any]:
        for row in self.tables["windows"]:
            if row["key"] == key:
                return dict(row)
        raise KeyError(f"windows: no '{key}' row in {KB_FILE.name}")

    @property
    def readmission_days(self) -> int:
        return int(self.window("readmission")["days"])

    @property
    def bed_only_days(self) -> int:
        return int(self.window("bed_only")["days"])

    @property
    def frequent_visits(self) -> tuple[int, int]:
        """(days, visits): this many outpatient visits within the days is frequent."""
        row = self.window("frequent_visits")
        return int(row["days"]), int(row["threshold"])

    @property
    def same_place_minutes(self) -> int:
        return int(self.window("same_place")["threshold"])

    @property
    def los_ratio(self) -> Decimal:
        return Decimal(str(self.window("los_outlier")["threshold"]))

    def max_days(self, med_type: str) -> int:
        """The longest supply one drug line may cover for a med_type (the same for every drug
        of the demo catalog)."""
        return max(
            int(r["max_days"]) for r in self.tables["drug_limits"] if r["med_type"] == med_type
        )

    @property
    def daily_items(self) -> frozenset[str]:
        """Codes billed at most once a day (frequency_limits.per_day == 1)."""
        return frozenset(
            r["hilist_code"] for r in self.tables["frequency_limits"] if r["per_day"] == 1
        )

    @property
    def bundles(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(r["bundle_code"], tuple(r["component_codes"])) for r in self.tables["bundles"]]

    @property
    def consumable_links(self) -> dict[str, tuple[str, ...]]:
        return {
            r["consumable_code"]: tuple(r["procedure_codes"])
            for r in self.tables["consumable_links"]
        }

    @property
    def outpatient_diagnoses(self) -> tuple[str, ...]:
        return tuple(r["diag_code"] for r in self.tables["outpatient_diagnoses"])


@cache
def demo_kb() -> DemoKB:
    return DemoKB(json.loads(KB_FILE.read_text(encoding="utf-8")))
