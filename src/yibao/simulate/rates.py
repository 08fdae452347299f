"""How often people of each age visit: yearly rates of acute outpatient visits, admissions and
pharmacy purchases (before the city's scaling), and a Poisson draw. The rhythms within the year
are `simulate.visits`'."""

from __future__ import annotations

import random
from datetime import date
from math import exp

from yibao.kit.clock import age_on
from yibao.simulate.model import Person


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation
        return max(0, round(rng.gauss(lam, lam**0.5)))
    threshold, k, p = exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def acute_rate(age: int) -> float:
    if age < 6:
        return 6.0
    if age < 18:
        return 3.0
    if age < 45:
        return 2.5
    if age < 60:
        return 4.0
    return 6.0 if age < 75 else 8.0


def inpatient_rate(age: int) -> float:
    """Admissions a year. Nationally about one admission per five persons a year (住院率 ~20 %,
    the 2023 health statistics), rising steeply with age; births among the 18–45."""
    if age < 6:
        return 0.12
    if age < 18:
        return 0.05
    if age < 45:
        return 0.10
    if age < 60:
        return 0.18
    return 0.35 if age < 75 else 0.60


def pharmacy_rate(age: int, chronic: bool) -> float:
    return (1.0 if age < 18 else 3.0) + (3.0 if chronic else 0.0)


def expected_visits(p: Person, start: date) -> float:
    """Visits a person makes in a year before scaling (for sizing a city to N settlements)."""
    age = age_on(p.brdy, start)
    return (
        acute_rate(age)
        + inpatient_rate(age)
        + pharmacy_rate(age, bool(p.chronic))
        + 12 * len(p.chronic)
    )
