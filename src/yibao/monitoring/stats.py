"""The statistics of the post-hoc models, as plain functions of numbers (no database)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median

#: Benford's first-digit shares, log10(1 + 1/d)
BENFORD = tuple(math.log10(1 + 1 / d) for d in range(1, 10))
#: the MAD of a normal distribution is 0.6745 standard deviations
_MAD_TO_SD = 0.6745


def robust_z(value: float, peers: Sequence[float]) -> float:
    """(value − median) / (MAD / 0.6745): how far a value lies from its peers, in standard
    deviations, without letting the outliers themselves set the scale. When more than half the
    peers are equal the MAD is 0; the mean absolute deviation stands in (×1.2533 for a normal
    distribution), and a value equal to all its peers scores 0."""
    if not peers:
        return 0.0
    centre = median(peers)
    mad = median(abs(p - centre) for p in peers)
    if mad > 0:
        return _MAD_TO_SD * (value - centre) / mad
    mean_dev = sum(abs(p - centre) for p in peers) / len(peers)
    if mean_dev > 0:
        return (value - centre) / (1.2533 * mean_dev)
    return 0.0 if value == centre else math.copysign(math.inf, value - centre)


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
