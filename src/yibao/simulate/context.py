"""What every chunk of the city shares: parameters, institutions grouped for choosing one,
the year's day weights (weekdays, winter), and per-institution staff lookups.

The memos here keep lists in the order a scan would build them, so the random draws — and
therefore the city of a seed — do not depend on them.
"""

from __future__ import annotations

import random
from bisect import bisect, bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from typing import TypeVar

from yibao.simulate.model import CityParams, Doctor, Institution

T = TypeVar("T")


def weighted(rng: random.Random, population: Sequence[T], cum_weights: Sequence[float]) -> T:
    """``rng.choices(population, cum_weights=cum_weights)[0]`` — the same draw from the same
    generator state (the same arithmetic as `random.Random.choices`), without building a list
    per call; callers keep the cumulative weights instead of re-adding them at every draw."""
    return population[
        bisect(cum_weights, rng.random() * (cum_weights[-1] + 0.0), 0, len(population) - 1)
    ]


@dataclass
class CityContext:
    """What every chunk needs: parameters, institutions grouped for choice, day weights."""

    params: CityParams
    institutions: Sequence[Institution]
    #: multiplies every visit rate (to size the city to a number of settlements)
    scale: float = 1.0
    by_kind: dict[str, list[Institution]] = field(init=False)
    days: list[date] = field(init=False)
    cum_plain: list[float] = field(init=False)
    cum_winter: list[float] = field(init=False)
    cum_flat: list[float] = field(init=False)

    def __post_init__(self) -> None:
        #: memos of `pick` (per kinds table; per kind and district)
        self._kinds: dict[Sequence[tuple[str, float]], tuple[list[str], list[float]]] = {}
        #: memo of `condition`: cumulative weights by (conditions, winter)
        self._conds: dict[tuple[object, ...], list[float]] = {}
        self._near: dict[tuple[str, str], list[Institution]] = {}
        self.by_kind = {}
        for inst in self.institutions:
            key = inst.kind if inst.kind != "hospital" else f"hospital{inst.hosp_lv}"
            self.by_kind.setdefault(key, []).append(inst)
        start = self.params.start
        self.days = [start + timedelta(days=i) for i in range(self.params.days)]
        weekday = [1.0, 1.0, 1.0, 1.0, 0.95, 0.6, 0.45]
        plain = [weekday[d.weekday()] for d in self.days]
        winter = [
            w * (2.2 if d.month in (12, 1, 2) else 1.4 if d.month in (3, 11) else 0.8)
            for w, d in zip(plain, self.days, strict=True)
        ]
        self.cum_plain = list(accumulate(plain))
        self.cum_winter = list(accumulate(winter))
        self.cum_flat = list(accumulate(1.0 for _ in self.days))

    def day(self, rng: random.Random, profile: str = "plain") -> date:
        cum = {"plain": self.cum_plain, "winter": self.cum_winter, "flat": self.cum_flat}[profile]
        return self.days[bisect_left(cum, rng.random() * cum[-1])]

    def pick(
        self, rng: random.Random, kinds: Sequence[tuple[str, float]], district: str
    ) -> Institution:
        choice = self._kinds.get(kinds)
        if choice is None:
            available = [(k, w) for k, w in kinds if self.by_kind.get(k)]
            choice = self._kinds[kinds] = (
                [k for k, _ in available],
                list(accumulate(w for _, w in available)),
            )
        kind = weighted(rng, choice[0], choice[1])
        pool = self.by_kind[kind]
        near = self._near.get((kind, district))
        if near is None:  # the same list in the same order as a scan: the same draws
            near = self._near[(kind, district)] = [i for i in pool if i.admdvs == district]
        if near and rng.random() < 0.7:
            return rng.choice(near)
        return rng.choice(pool)


OUTPATIENT_KINDS = (("clinic", 0.40), ("hospital1", 0.10), ("hospital2", 0.20), ("hospital3", 0.30))
INPATIENT_KINDS = (("hospital1", 0.15), ("hospital2", 0.35), ("hospital3", 0.50))


class Staff:
    """An institution's departments by code and doctors by department (built once per chunk
    instead of once per visit; the lists keep the institution's order, so draws are the same)."""

    def __init__(self, inst: Institution) -> None:
        self.inst = inst
        self.depts = {d.dept_code: d for d in inst.departments}
        #: of the departments a condition is seen in, those this institution has
        self.wanted: dict[tuple[str, ...], list[str]] = {}
        self._doctors: dict[str, list[Doctor]] = {}

    def doctors_of(self, dept_code: str) -> list[Doctor]:
        found = self._doctors.get(dept_code)
        if found is None:
            found = [d for d in self.inst.doctors if d.dept_code == dept_code] or list(
                self.inst.doctors
            )
            self._doctors[dept_code] = found
        return found
