"""Fund protection (基金监管): the rule base and the pure review engine.

Pure like `policy/`: the standard library, `kit` and `codes` only. The review service
(`yibao.review`) loads the knowledge base and the person's history from the row store, builds the
plain-data inputs of `risk.model` and calls `risk.engine.review`; `yibao risk evaluate` and the
post-hoc review call the same function. docs/review.md describes every rule.
"""

from yibao.risk.engine import review
from yibao.risk.kb import KnowledgeBase
from yibao.risk.model import Bill, History, Hit, Institution, Line, Person, Visit
from yibao.risk.params_io import RuleSet, load_ruleset

__all__ = [
    "Bill",
    "History",
    "Hit",
    "Institution",
    "KnowledgeBase",
    "Line",
    "Person",
    "RuleSet",
    "Visit",
    "load_ruleset",
    "review",
]
