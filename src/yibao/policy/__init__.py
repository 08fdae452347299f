"""Pure settlement calculator with versioned policy parameters.

Imports only the standard library, ``yibao.kit`` and ``yibao.codes``. See docs/policy.md.

    book = load_book(extra_dirs=[data_dir])          # once, at start-up
    rows = [split_line(line, book.line_rules(admdvs, day)) for line in lines]   # 2204/2301
    split = settle(lines, person, visit, accumulators, book)                     # 2206/2207
    reversal = negate(split)                                                     # 2208/2305
"""

from yibao.policy.book import LineRules, PolicyBook
from yibao.policy.engine import negate, settle, settle_lines, split_line
from yibao.policy.model import (
    AccKey,
    Accumulators,
    CatalogTerms,
    FeeLineIn,
    FundDetail,
    LineSplit,
    PersonTerms,
    PolicyFileError,
    PolicyRefusal,
    SettlementSplit,
    VisitTerms,
    flag,
)
from yibao.policy.params_io import book_from_texts, load_book, parse_version

__all__ = [
    "AccKey",
    "Accumulators",
    "CatalogTerms",
    "FeeLineIn",
    "FundDetail",
    "LineRules",
    "LineSplit",
    "PersonTerms",
    "PolicyBook",
    "PolicyFileError",
    "PolicyRefusal",
    "SettlementSplit",
    "VisitTerms",
    "book_from_texts",
    "flag",
    "load_book",
    "negate",
    "parse_version",
    "settle",
    "settle_lines",
    "split_line",
]
