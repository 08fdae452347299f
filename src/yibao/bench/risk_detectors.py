"""Detectors `yibao risk evaluate` can score, by name.

`settlement` — what settlement already records on every fee line, read back from the row
store: a line the catalog's restrictions made self-paid (the forced self-pay marker in
`fee_detail.flags`, the reason in its `memo`), a code unknown to the catalog (目录外, no
catalog name) and a price above the catalog's cap (`overlmt_amt` > 0). It is the platform's
review before the rule base: it knows nothing of visit patterns, institutions or groups.

The rule engine (issue 18/19's `risk/` package) registers itself here as `rules` when it is
wired (`DETECTORS["rules"] = …`: a factory taking the engine and returning a `Detector`);
`yibao risk evaluate` uses it by default when present.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from sqlalchemy import Engine, or_, select

from yibao.bench.risk_eval import Detector, Hit
from yibao.settlement.records import FORCED_SELFPAY
from yibao.storage.tables import fee_detail

#: a restriction's reason text (yibao.catalog.restrictions.violations) → its category
_REASONS: Final = (
    ("性使用, 患者性别", "gender_limit"),
    ("岁以下使用", "child_only"),
    ("岁及以上使用", "age_limit"),
    ("医疗机构使用", "hosp_lv_limit"),
    ("本次医疗类别为", "med_type_limit"),
    ("限适应症", "indication_limit"),
    ("最多开", "over_quantity"),
    ("单次最多", "over_quantity"),
)


def categories_of_line(
    flags: str | None, memo: str | None, hilist_name: str | None, overlmt: object
) -> list[str]:
    """The categories settlement's marks on one fee line show (pure)."""
    out: list[str] = []
    if hilist_name is None:
        out.append("out_of_catalog")
    forced = flags is not None and len(flags) > FORCED_SELFPAY and flags[FORCED_SELFPAY] == "1"
    if forced and memo:
        for needle, category in _REASONS:
            if needle in memo and category not in out:
                out.append(category)
    if overlmt:
        out.append("over_price")
    return out


class SettlementMarks:
    """The `settlement` detector (see the module's docstring)."""

    name = "settlement"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> Iterator[Hit]:
        c = fee_detail.c
        forced = "_" * FORCED_SELFPAY + "1%"
        query = select(
            c.mdtrt_id, c.feedetl_sn, c.psn_no, c.fixmedins_code, c.flags, c.memo,
            c.hilist_name, c.overlmt_amt,
        ).where(or_(c.flags.like(forced), c.hilist_name.is_(None), c.overlmt_amt > 0))  # fmt: skip
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                for category in categories_of_line(r.flags, r.memo, r.hilist_name, r.overlmt_amt):
                    yield Hit(
                        category,
                        mdtrt_id=r.mdtrt_id,
                        feedetl_sn=r.feedetl_sn,
                        psn_no=r.psn_no,
                        fixmedins_code=r.fixmedins_code,
                        rule_id=f"settlement:{category}",
                    )


#: detector factories by name (the lead wires the rule engine in as "rules")
DETECTORS: dict[str, Callable[[Engine], Detector]] = {"settlement": SettlementMarks}


def default_detector() -> str:
    return "rules" if "rules" in DETECTORS else "settlement"
