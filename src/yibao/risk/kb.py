"""The knowledge base (知识库) as plain data: the rows of its seven tables, each valid from
`begndate` to `enddate` (inclusive; None = open), and the lookups the rules make on a date.

The table names and columns are the ones `yibao kb import` reads (docs/review.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, TypeVar

Relation = Literal["includes", "excludes"]

#: the knowledge tables, in the order `yibao kb` lists them
KB_TABLES = (
    "item_pairs",
    "bundles",
    "price_limits",
    "drug_limits",
    "frequency_limits",
    "windows",
    "consumable_links",
)

#: window_key values of `windows`
WINDOW_KEYS = ("readmission", "holding", "frequent_visits")


@dataclass(frozen=True, slots=True)
class Dated:
    begndate: date
    enddate: date | None

    def valid_on(self, day: date) -> bool:
        return self.begndate <= day and (self.enddate is None or day <= self.enddate)


@dataclass(frozen=True, slots=True)
class ItemPair(Dated):
    """`includes`: item A's 项目内涵 includes B (billing both is 重复收费); `excludes`: A and B
    are mutually exclusive (互斥) in one visit."""

    hilist_code_a: str
    hilist_code_b: str
    relation: Relation
    memo: str = ""


@dataclass(frozen=True, slots=True)
class BundlePart(Dated):
    """One component of a bundled service: billing `min_parts` or more components of one
    bundle on one day, without the bundle item itself, is 分解收费."""

    bundle_code: str
    bundle_name: str
    hilist_code: str
    min_parts: int = 2
    memo: str = ""


@dataclass(frozen=True, slots=True)
class PriceLimit(Dated):
    """The highest unit price of an item at a level ("*" = every level)."""

    hilist_code: str
    hosp_lv: str
    max_pric: Decimal
    memo: str = ""


@dataclass(frozen=True, slots=True)
class DrugLimit(Dated):
    """Most days one prescription line may cover, most units per day."""

    hilist_code: str
    max_days: Decimal | None
    max_daily_dose: Decimal | None
    memo: str = ""


@dataclass(frozen=True, slots=True)
class FrequencyLimit(Dated):
    """Most units per day, per admission, per natural year."""

    hilist_code: str
    per_day: Decimal | None
    per_admission: Decimal | None
    per_year: Decimal | None
    memo: str = ""


@dataclass(frozen=True, slots=True)
class Window(Dated):
    """A time window in days: `readmission` (分解住院), `holding` (持有量 grace for 重复开药:
    the days of supply that may remain when a drug is prescribed again), `frequent_visits`
    (the period visits are counted in)."""

    window_key: str
    days: int
    memo: str = ""


@dataclass(frozen=True, slots=True)
class ConsumableLink(Dated):
    """A high-value consumable and a procedure it goes with (one of the links must be billed
    in the same visit)."""

    consumable_code: str
    procedure_code: str
    memo: str = ""


_D = TypeVar("_D", bound="Dated")


def _on(rows: Iterable[_D], day: date) -> list[_D]:
    return [r for r in rows if r.valid_on(day)]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    item_pairs: tuple[ItemPair, ...] = ()
    bundles: tuple[BundlePart, ...] = ()
    price_limits: tuple[PriceLimit, ...] = ()
    drug_limits: tuple[DrugLimit, ...] = ()
    frequency_limits: tuple[FrequencyLimit, ...] = ()
    windows: tuple[Window, ...] = ()
    consumable_links: tuple[ConsumableLink, ...] = ()

    def pairs(self, day: date) -> list[ItemPair]:
        return _on(self.item_pairs, day)

    def bundle_parts(self, day: date) -> Mapping[str, list[BundlePart]]:
        out: dict[str, list[BundlePart]] = {}
        for part in _on(self.bundles, day):
            out.setdefault(part.bundle_code, []).append(part)
        return out

    def max_price(self, hilist_code: str, hosp_lv: str, day: date) -> PriceLimit | None:
        found: PriceLimit | None = None
        for p in self.price_limits:
            if p.hilist_code != hilist_code or not p.valid_on(day):
                continue
            if p.hosp_lv == hosp_lv:
                return p
            if p.hosp_lv == "*":
                found = p
        return found

    def drug_limit(self, hilist_code: str, day: date) -> DrugLimit | None:
        for d in self.drug_limits:
            if d.hilist_code == hilist_code and d.valid_on(day):
                return d
        return None

    def frequency_limit(self, hilist_code: str, day: date) -> FrequencyLimit | None:
        for f in self.frequency_limits:
            if f.hilist_code == hilist_code and f.valid_on(day):
                return f
        return None

    def window(self, key: str, day: date, default: int) -> int:
        for w in self.windows:
            if w.window_key == key and w.valid_on(day):
                return w.days
        return default

    def procedures_for(self, consumable_code: str, day: date) -> frozenset[str]:
        return frozenset(
            link.procedure_code
            for link in self.consumable_links
            if link.consumable_code == consumable_code and link.valid_on(day)
        )


EMPTY_KB = KnowledgeBase()
