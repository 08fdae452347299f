"""The settled bills the real-time line rules are re-run over at the post stage (事后复审;
issue 19: "the pre/mid rules re-run over settled bills — one implementation, two stages").

The rules themselves are the review's (`yibao.risk.rules`, through `yibao.risk.engine.review`
with stage `post`); this module only says which categories are re-run and reads the bills
from the columnar replica: each settlement's settled lines (`fee_fact`) with the visit
(`mdtrt_fact`: kind, times, every diagnosis), the person on that day (`setl_fact`'s sex and
age, `psn_dim`'s date of death) and the institution (`fixmedins_dim`).

A year of a large city is tens of millions of bills, too many to hand one by one to Python.
The read keeps the lines a re-run could find something on — a line whose item the catalog
restricts or the knowledge base names (`watched`: a bill rule's pairs, bundles, prices, drug
limits, consumables and their procedures are all knowledge-base items), a line outside the
catalog, a pharmacy line that is not a drug, the same charge twice in one bill — and hands
each bill over with those lines: every re-run category's logic reads only such lines and the
visit. It narrows, it never decides: the rules decide on what it hands over.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from yibao.risk.model import DRUG_LIST_TYPES

#: the categories whose real-time logic is re-run over settled bills: the line rules judged
#: with a fee upload and the bill's high-value consumables. Not here: the windowed and history
#: categories (a post-hoc detector of `runner.STEPS` reads the whole history instead), and
#: item_substitution (it needs the pharmacy's stock at the moment of the sale, which the
#: replica does not keep).
REPLAYED: tuple[str, ...] = (
    "gender_limit",
    "child_only",
    "age_limit",
    "hosp_lv_limit",
    "indication_limit",
    "med_type_limit",
    "duplicate_charge",
    "over_price",
    "split_charge",
    "over_quantity",
    "pharmacy_non_drug",
    "out_of_catalog",
    "high_value_consumable",
)


@dataclass(frozen=True, slots=True)
class SettledLine:
    feedetl_sn: str
    fee_ocur_time: datetime
    hilist_code: str
    #: None: outside the catalog on the fee day (settlement stored no list type)
    list_type: str | None
    cnt: Decimal
    pric: Decimal
    amount: Decimal
    prd_days: Decimal | None
    hosp_appr_flag: str | None


@dataclass(frozen=True, slots=True)
class SettledBill:
    """One settlement as the replica keeps it, the person only as the pseudonym."""

    setl_id: str
    setl_date: date
    mdtrt_id: str
    psn_ref: str
    fixmedins_code: str
    med_type: str
    mdtrt_kind: str | None
    begntime: datetime | None
    endtime: datetime | None
    main_diag: str | None
    #: every valid diagnosis of the visit, the main one first, each once
    diag_codes: tuple[str, ...]
    gend: str | None
    age: int | None
    death_date: date | None
    hosp_lv: str | None
    admdvs: str | None
    kind: str | None
    lines: tuple[SettledLine, ...]
    #: the rules that already fired on the visit at the counter (事前/事中): the re-run does
    #: not report their findings again
    hit_before: frozenset[str] = frozenset()


#: the lines a re-run could find something on (see the module's docstring): a watched item,
#: a line outside the catalog, a pharmacy's non-drug, one of two equal charges of a bill
_LINES = """
WITH dup AS (
  SELECT setl_id, hilist_code, fee_ocur_time, cnt, pric
  FROM fee_fact
  WHERE setl_date BETWEEN $since AND $until
  GROUP BY ALL
  HAVING count(*) > 1
),
seen AS (
  SELECT mdtrt_id, list(DISTINCT rule_id) AS rule_ids
  FROM rule_hit
  WHERE stage IN ('pre', 'mid') AND mdtrt_id IS NOT NULL
  GROUP BY mdtrt_id
)
SELECT f.setl_id, f.setl_date, f.mdtrt_id, f.psn_ref, f.fixmedins_code, f.med_type,
       COALESCE(m.mdtrt_kind, f.visit_kind),
       CAST(COALESCE(m.begntime, s.begndate, s.setl_time) AS TIMESTAMP),
       CAST(COALESCE(m.endtime, s.enddate) AS TIMESTAMP),
       COALESCE(m.maindiag_code, s.maindiag_code), m.diag_codes,
       s.gend, s.age, p.death_date, i.hosp_lv, i.admdvs, i.kind,
       f.feedetl_sn, CAST(f.fee_ocur_time AS TIMESTAMP), f.hilist_code, f.list_type, f.cnt,
       f.pric, f.det_item_fee_sumamt, f.prd_days, f.hosp_appr_flag, h.rule_ids
FROM fee_fact f
LEFT JOIN fixmedins_dim i ON i.fixmedins_code = f.fixmedins_code
LEFT JOIN dup d ON d.setl_id = f.setl_id AND d.hilist_code = f.hilist_code
     AND d.fee_ocur_time = f.fee_ocur_time AND d.cnt = f.cnt
     AND d.pric IS NOT DISTINCT FROM f.pric
LEFT JOIN mdtrt_fact m ON m.mdtrt_id = f.mdtrt_id
LEFT JOIN setl_fact s ON s.setl_id = f.setl_id
LEFT JOIN psn_dim p ON p.psn_ref = f.psn_ref
LEFT JOIN seen h ON h.mdtrt_id = f.mdtrt_id
WHERE f.setl_date BETWEEN $since AND $until
  AND (
    f.list_type IS NULL
    OR f.hilist_code IN (SELECT unnest($watched::VARCHAR[]))
    OR (i.kind = 'pharmacy' AND f.list_type NOT IN (SELECT unnest($drugs::VARCHAR[])))
    OR d.setl_id IS NOT NULL
  )
ORDER BY f.setl_id, f.fee_ocur_time,
         TRY_CAST(f.feedetl_sn AS BIGINT) NULLS LAST, f.feedetl_sn
"""

#: rows fetched from DuckDB at a time
_FETCH = 20_000


def _diagnoses(main: str | None, codes: str | None) -> tuple[str, ...]:
    listed = codes.split(",") if codes else []
    return tuple(dict.fromkeys(c for c in (main, *listed) if c))


def settled_bills(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, watched: Collection[str]
) -> Iterator[SettledBill]:
    """The bills settled in [since, until] with a line a re-run could find something on, each
    once with those lines, in upload order (fee time, then the serial number as a number
    where it is one)."""
    cur.execute(
        _LINES,
        {
            "since": since,
            "until": until,
            "watched": sorted(watched),
            "drugs": sorted(DRUG_LIST_TYPES),
        },
    )
    head: tuple[Any, ...] | None = None
    lines: list[SettledLine] = []
    while True:
        batch = cur.fetchmany(_FETCH)
        if not batch:
            break
        for r in batch:
            if head is not None and r[0] != head[0]:
                yield _bill(head, lines)
                lines = []
            head = r
            lines.append(
                SettledLine(
                    feedetl_sn=str(r[17]),
                    fee_ocur_time=r[18],
                    hilist_code=r[19],
                    list_type=r[20],
                    cnt=r[21],
                    pric=r[22] if r[22] is not None else Decimal(0),
                    amount=r[23],
                    prd_days=r[24],
                    hosp_appr_flag=r[25],
                )
            )
    if head is not None:
        yield _bill(head, lines)


def _bill(r: tuple[Any, ...], lines: list[SettledLine]) -> SettledBill:
    return SettledBill(
        setl_id=str(r[0]),
        setl_date=r[1],
        mdtrt_id=str(r[2]),
        psn_ref=str(r[3]),
        fixmedins_code=str(r[4]),
        med_type=str(r[5]),
        mdtrt_kind=r[6],
        begntime=r[7],
        endtime=r[8],
        main_diag=r[9],
        diag_codes=_diagnoses(r[9], r[10]),
        gend=r[11],
        age=r[12],
        death_date=r[13],
        hosp_lv=r[14],
        admdvs=r[15],
        kind=r[16],
        lines=tuple(lines),
        hit_before=frozenset(r[26] or ()),
    )
