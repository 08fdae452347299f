"""The demo knowledge base (知识库) the synthetic city is built against: the thresholds its
injected anomalies cross and its near-misses stay within, read from one file
(`risk_kb_demo.json` beside this module) that the risk rules' knowledge base loads too.

Tables and columns are those `yibao kb import` takes (issue 18; `risk.kb`): `item_pairs`,
`bundles` (one row per part), `price_limits`, `drug_limits`, `frequency_limits`, `windows`
(`window_key` readmission, holding, frequent_visits) and `consumable_links` (one row per
procedure), each row with `begndate`/`enddate` (drug_limits general, `med_type` null, and for
the ordinary outpatient med_type 11; the frequent_visits window with its `threshold`); and two
more parameter tables: `thresholds` (counts, minutes and ratios of the post-hoc rules:
frequent visits, bed-only days, two places, the LOS ratio) and `outpatient_diagnoses` (main
diagnoses an admission is too low a threshold for).
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

    def _row(self, table: str, column: str, key: str) -> dict[str, Any]:
        for row in self.tables[table]:
            if row[column] == key:
                return dict(row)
        raise KeyError(f"{table}: no '{key}' row in {KB_FILE.name}")

    def threshold(self, key: str) -> Decimal:
        return Decimal(str(self._row("thresholds", "key", key)["value"]))

    @property
    def readmission_days(self) -> int:
        return int(self._row("windows", "window_key", "readmission")["days"])

    @property
    def holding_days(self) -> int:
        """The supply a person may still hold when a drug is prescribed again (重复开药)."""
        return int(self._row("windows", "window_key", "holding")["days"])

    @property
    def bed_only_days(self) -> int:
        return int(self.threshold("bed_only_days"))

    @property
    def frequent_visits(self) -> tuple[int, int]:
        """(days, visits): this many outpatient visits within the days is frequent."""
        row = self._row("windows", "window_key", "frequent_visits")
        return int(row["days"]), int(row["threshold"])

    @property
    def same_place_minutes(self) -> int:
        return int(self.threshold("same_place_minutes"))

    @property
    def los_ratio(self) -> Decimal:
        return self.threshold("los_ratio")

    def max_days(self, med_type: str) -> int:
        """The longest supply one drug line may cover for a med_type: the rows for that
        med_type where there are any (the ordinary outpatient 11), else the general ones."""
        rows = self.tables["drug_limits"]
        own = [r for r in rows if r.get("med_type") == med_type] or [
            r for r in rows if r.get("med_type") is None
        ]
        return min(int(Decimal(str(r["max_days"]))) for r in own)

    @property
    def daily_items(self) -> frozenset[str]:
        """Codes billed at most once a day (frequency_limits.per_day == 1)."""
        return frozenset(
            r["hilist_code"]
            for r in self.tables["frequency_limits"]
            if r["per_day"] is not None and Decimal(str(r["per_day"])) == 1
        )

    @property
    def bundles(self) -> list[tuple[str, tuple[str, ...]]]:
        """(bundle code, its parts' codes)."""
        out: dict[str, list[str]] = {}
        for r in self.tables["bundles"]:
            out.setdefault(r["bundle_code"], []).append(r["hilist_code"])
        return [(code, tuple(parts)) for code, parts in out.items()]

    @property
    def consumable_links(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for r in self.tables["consumable_links"]:
            out.setdefault(r["consumable_code"], []).append(r["procedure_code"])
        return {code: tuple(procs) for code, procs in out.items()}

    @property
    def outpatient_diagnoses(self) -> tuple[str, ...]:
        return tuple(r["diag_code"] for r in self.tables["outpatient_diagnoses"])


@cache
def demo_kb() -> DemoKB:
    return DemoKB(json.loads(KB_FILE.read_text(encoding="utf-8")))
