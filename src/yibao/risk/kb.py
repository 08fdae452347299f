"""The knowledge base (知识库) as plain data: the rows of its seven tables, each valid from
`begndate` to `enddate` (inclusive; None = open), and the lookups the rules make on a date.

The table names and columns are the ones `yibao kb import` reads (docs/review.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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

#: window_key values of `windows` (the last three are read by the post-hoc review)
WINDOW_KEYS = (
    "readmission",
    "holding",
    "frequent_visits",
    "same_place",
    "bed_only",
    "los_outlier",
)


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
    """Most days one prescription line may cover, most units per day; for one visit type
    (`med_type`) or every type (None)."""

    hilist_code: str
    max_days: Decimal | None
    max_daily_dose: Decimal | None
    memo: str = ""
    med_type: str | None = None


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
    days: int | None
    memo: str = ""
    #: frequent_visits: the visits that are frequent; same_place: minutes; los_outlier: ratio
    threshold: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ConsumableLink(Dated):
    """A high-value consumable and a procedure it goes with (one of the links must be billed
    in the same visit)."""

    consumable_code: str
    procedure_code: str
    memo: str = ""


_D = TypeVar("_D", bound="Dated")
_NONE: frozenset[str] = frozenset()


def _on(rows: Iterable[_D], day: date) -> list[_D]:
    return [r for r in rows if r.valid_on(day)]


def _by(rows: Iterable[_D], key: str) -> dict[str, list[_D]]:
    out: dict[str, list[_D]] = {}
    for r in rows:
        out.setdefault(getattr(r, key), []).append(r)
    return out


@dataclass(frozen=True)
class KnowledgeBase:
    """The knowledge tables, indexed by item code once (a real region holds thousands of
    rows; a review looks up each line's code)."""

    item_pairs: tuple[ItemPair, ...] = ()
    bundles: tuple[BundlePart, ...] = ()
    price_limits: tuple[PriceLimit, ...] = ()
    drug_limits: tuple[DrugLimit, ...] = ()
    frequency_limits: tuple[FrequencyLimit, ...] = ()
    windows: tuple[Window, ...] = ()
    consumable_links: tuple[ConsumableLink, ...] = ()
    _prices: dict[str, list[PriceLimit]] = field(init=False, repr=False, compare=False)
    _drugs: dict[str, list[DrugLimit]] = field(init=False, repr=False, compare=False)
    _freqs: dict[str, list[FrequencyLimit]] = field(init=False, repr=False, compare=False)
    _links: dict[str, list[ConsumableLink]] = field(init=False, repr=False, compare=False)
    #: item code → the positions of the pairs naming it (either side), in table order
    _pairs_of: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    #: component code → the positions of the bundle rows of every bundle it belongs to
    _bundles_of: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_prices", _by(self.price_limits, "hilist_code"))
        object.__setattr__(self, "_drugs", _by(self.drug_limits, "hilist_code"))
        object.__setattr__(self, "_freqs", _by(self.frequency_limits, "hilist_code"))
        object.__setattr__(self, "_links", _by(self.consumable_links, "consumable_code"))
        pairs: dict[str, list[int]] = {}
        for i, p in enumerate(self.item_pairs):
            pairs.setdefault(p.hilist_code_a, []).append(i)
            if p.hilist_code_b != p.hilist_code_a:
                pairs.setdefault(p.hilist_code_b, []).append(i)
        object.__setattr__(self, "_pairs_of", {k: tuple(v) for k, v in pairs.items()})
        rows_of_bundle: dict[str, list[int]] = {}
        for i, b in enumerate(self.bundles):
            rows_of_bundle.setdefault(b.bundle_code, []).append(i)
        bundles: dict[str, list[int]] = {}
        for b in self.bundles:
            bundles.setdefault(b.hilist_code, []).extend(rows_of_bundle[b.bundle_code])
        object.__setattr__(
            self, "_bundles_of", {k: tuple(sorted(set(v))) for k, v in bundles.items()}
        )

    def line_codes(self) -> frozenset[str]:
        """Every item code a line rule looks up here (pairs, bundles, standard prices, drug
        limits, high-value consumables and the procedures that go with them): the items
        whose lines the post stage re-runs the rules on (`yibao.monitoring.replay`)."""
        return frozenset(
            [
                *(p.hilist_code_a for p in self.item_pairs),
                *(p.hilist_code_b for p in self.item_pairs),
                # a bundle's own code too: billed beside its parts it is no split
                *(b.bundle_code for b in self.bundles),
                *(b.hilist_code for b in self.bundles),
                *(p.hilist_code for p in self.price_limits),
                *(d.hilist_code for d in self.drug_limits),
                *(link.consumable_code for link in self.consumable_links),
                *(link.procedure_code for link in self.consumable_links),
            ]
        )

    def pairs(self, day: date, touching: Iterable[str] | None = None) -> list[ItemPair]:
        """The pairs valid on `day`, in table order; `touching`: only those naming one of
        these codes on either side (a review looks up its bill's items, not a region's
        thousands of pairs)."""
        if touching is None:
            return _on(self.item_pairs, day)
        found: set[int] = set()
        for code in touching:
            found.update(self._pairs_of.get(code, ()))
        rows = self.item_pairs
        return [rows[i] for i in sorted(found) if rows[i].valid_on(day)]

    def bundle_parts(
        self, day: date, touching: Iterable[str] | None = None
    ) -> Mapping[str, list[BundlePart]]:
        """bundle code → its components valid on `day`, in table order; `touching`: only the
        bundles one of these codes is a component of."""
        if touching is None:
            parts: Iterable[BundlePart] = _on(self.bundles, day)
        else:
            found: set[int] = set()
            for code in touching:
                found.update(self._bundles_of.get(code, ()))
            rows = self.bundles
            parts = [rows[i] for i in sorted(found) if rows[i].valid_on(day)]
        out: dict[str, list[BundlePart]] = {}
        for part in parts:
            out.setdefault(part.bundle_code, []).append(part)
        return out

    def max_price(self, hilist_code: str, hosp_lv: str, day: date) -> PriceLimit | None:
        found: PriceLimit | None = None
        for p in self._prices.get(hilist_code, ()):
            if not p.valid_on(day):
                continue
            if p.hosp_lv == hosp_lv:
                return p
            if p.hosp_lv == "*":
                found = p
        return found

    def drug_limit(
        self, hilist_code: str, day: date, med_type: str | None = None
    ) -> DrugLimit | None:
        """The limit for this visit type, else the one for every type."""
        general: DrugLimit | None = None
        for d in self._drugs.get(hilist_code, ()):
            if not d.valid_on(day):
                continue
            if d.med_type is not None and d.med_type == med_type:
                return d
            if d.med_type is None and general is None:
                general = d
        return general

    def frequency_limit(self, hilist_code: str, day: date) -> FrequencyLimit | None:
        for f in self._freqs.get(hilist_code, ()):
            if f.valid_on(day):
                return f
        return None

    def window(self, key: str, day: date, default: int) -> int:
        for w in self.windows:
            if w.window_key == key and w.valid_on(day) and w.days is not None:
                return w.days
        return default

    def window_threshold(self, key: str, day: date) -> Decimal | None:
        for w in self.windows:
            if w.window_key == key and w.valid_on(day) and w.threshold is not None:
                return w.threshold
        return None

    def procedures_for(self, consumable_code: str, day: date) -> frozenset[str]:
        links = self._links.get(consumable_code)
        if not links:  # most items are no high-value consumable
            return _NONE
        return frozenset(link.procedure_code for link in links if link.valid_on(day))


EMPTY_KB = KnowledgeBase()
