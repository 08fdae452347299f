"""What a settlement use case knows of its caller, without knowing the national interface:
the handler in `yibao.interface.transactions` builds these from its `CallContext` and the
running platform.

`Caller` is the institution and the message (every use case that writes stamps rows with
them); `Pricing` is what prices a line and a settlement (the policy book, the catalog cache
the region's 目录对照 rule and the review's rules) — built only by the transactions that split or settle, so a
registration never loads the policy book.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from yibao.catalog.cache import CatalogCache
from yibao.catalog.mapping import MappingRule
from yibao.kit.ids import IdGenerator
from yibao.kit.records import quick_init
from yibao.policy import PolicyBook
from yibao.review.service import Reviewer


@quick_init
@dataclass(frozen=True, slots=True)
class Caller:
    """The calling institution and its message."""

    fixmedins_code: str
    #: the institution's hospital level (the calculator's hosp_lv) and region (clr_optins)
    hosp_lv: str
    admdvs: str
    #: the envelope's 参保地医保区划 when sent: must be the person's insured region
    insuplc_admdvs: str | None
    msgid: str
    #: server time at receipt, naive in the platform zone (setl_time, created_at …)
    now: datetime
    opter: str
    opter_name: str
    ids: IdGenerator
    #: the institution's kind (codes.dicts.InstitutionKind: hospital, clinic, pharmacy)
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Pricing:
    """The policy book, the catalog's term cache and the region's rule for local codes
    without an approved 目录对照 (None: not required)."""

    book: PolicyBook
    catalog: CatalogCache
    mapping_rule: MappingRule | None
    #: real-time review (None: none, as for a bulk load)
    review: Reviewer | None = None
