"""The settlement calculator (stub; filled in next commit)."""

from __future__ import annotations

from collections.abc import Sequence

from yibao.policy.book import LineRules, PolicyBook
from yibao.policy.model import (
    Accumulators,
    FeeLineIn,
    LineSplit,
    PersonTerms,
    SettlementSplit,
    VisitTerms,
)


def split_line(line: FeeLineIn, rules: LineRules) -> LineSplit:
    raise NotImplementedError


def settle(
    lines: Sequence[FeeLineIn],
    person: PersonTerms,
    visit: VisitTerms,
    accumulators: Accumulators,
    book: PolicyBook,
) -> SettlementSplit:
    raise NotImplementedError


def negate(split: SettlementSplit) -> SettlementSplit:
    raise NotImplementedError
