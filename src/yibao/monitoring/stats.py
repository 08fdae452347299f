"""The statistics of the post-hoc models, as plain functions of numbers (no database)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

#: Benford's first-digit shares, log10(1 + 1/d)
BENFORD = tuple(math.log10(1 + 1 / d) for d in range(1, 10))
#: the MAD of a normal distribution is 0.6745 standard deviations
_MAD_TO_SD = 0.6745


@dataclass(frozen=True)
class Spread:
    """A group's median, median absolute deviation and mean absolute deviation (about the
    median): what `robust_z` measures a value against."""

    centre: float
    mad: float
    mean_dev: float


def spread(peers: Sequence[float]) -> Spread | None:
    """The spread of `peers` (None when there are none)."""
    if not peers:
        return None
    centre = median(peers)
    deviations = [abs(p - centre) for p in peers]
    return Spread(centre, median(deviations), sum(deviations) / len(peers))


def z_of(value: float, s: Spread | None) -> float:
    """`robust_z` against a spread computed once (a large group: each member against the
    same spread)."""
    if s is None:
        return 0.0
    if s.mad > 0:
        return _MAD_TO_SD * (value - s.centre) / s.mad
    if s.mean_dev > 0:
        return (value - s.centre) / (1.2533 * s.mean_dev)
    return 0.0 if value == s.centre else math.copysign(math.inf, value - s.centre)


def robust_z(value: float, peers: Sequence[float]) -> float:
    """(value − median) / (MAD / 0.6745): how far a value lies from its peers, in standard
    deviations, without letting the outliers themselves set the scale. When more than half the
    peers are equal the MAD is 0; the mean absolute deviation stands in (×1.2533 for a normal
    distribution), and a value equal to all its peers scores 0."""
    return z_of(value, spread(peers))


def first_digit(amount_fen: int) -> int | None:
    """The first significant digit of an amount (None for zero)."""
    n = abs(int(amount_fen))
    if n == 0:
        return None
    while n >= 10:
        n //= 10
    return n


def benford_mad(counts: Sequence[int]) -> float:
    """Mean absolute deviation of the first-digit shares (`counts[0]` is digit 1) from
    Benford's: Nigrini's conformity measure (≤ 0.006 close, ≤ 0.012 acceptable, ≤ 0.015
    marginal, above: nonconformity)."""
    total = sum(counts)
    if total == 0:
        return 0.0
    return sum(abs(c / total - e) for c, e in zip(counts, BENFORD, strict=True)) / 9


#: E|p̂ − p| of a digit's share in n draws is about sqrt(2 p (1 − p) / (π n)); the mean over
#: the nine Benford shares, times sqrt(n)
_NOISE = math.sqrt(2 / math.pi) * sum(math.sqrt(p * (1 - p)) for p in BENFORD) / 9


def benford_noise(n: int) -> float:
    """The MAD a sample of `n` amounts that do follow Benford's law shows by chance (0.012 at
    400 bills, 0.007 at 1,000): Nigrini's cut-offs are for large samples, so a test of a few
    hundred bills adds this to them."""
    return _NOISE / math.sqrt(n) if n > 0 else math.inf
