"""The settled bills the real-time line rules are re-run over at the post stage (事后复审;
issue 19: "the pre/mid rules re-run over settled bills — one implementation, two stages").

The rules themselves are the review's (`yibao.risk.rules`, through `yibao.risk.engine.review`
with stage `post`); this module only says which categories are re-run and reads the bills
from the columnar replica: each settlement's settled lines (`fee_fact`) with the visit
(`mdtrt_fact`: kind, times, every diagnosis), the person on that day (`setl_fact`'s sex and
age, `psn_dim`'s date of death) and the institution (`fixmedins_dim`).

A year of a large city is tens of millions of bills, a third of them with a restricted item,
too many to hand one by one to Python. The read keeps the lines a re-run could find something
on — a line whose context may break its item's restricted catalog term (a man given a drug
restricted to women, a visit without any diagnosis an indication names; `_BREAKS_A_TERM`), an
item the knowledge base names (a bill rule's pairs, bundles, prices, drug limits, consumables
and their procedures), a line outside the catalog, a pharmacy line that is not a drug, the
same charge twice in one bill — and hands each bill over with those lines: every re-run
category's logic reads only such lines and the visit. It narrows, it never decides: the rules
decide on what it hands over, and a test holds the narrowing to keep every line they find.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

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
    #: settlement made the line fully self-paid (a restriction or a mapping): no fund money
    forced_selfpay: bool = False


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


@dataclass(frozen=True, slots=True)
class RestrictedTerm:
    """A catalog term that restricts its item (`catalog.model.Restrictions`), valid from
    `begndate` to `enddate` (None: open-ended)."""

    hilist_code: str
    begndate: date
    enddate: date | None
    gend: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    child_drug: bool = False
    hosp_lv: tuple[str, ...] = ()
    med_type: tuple[str, ...] = ()
    diag_codes: tuple[str, ...] = ()
    max_days: Decimal | None = None
    max_cnt: Decimal | None = None


_TERMS_SCHEMA = pa.schema(
    [
        ("hilist_code", pa.string()),
        ("begndate", pa.date32()),
        ("enddate", pa.date32()),
        ("gend", pa.string()),
        ("age_min", pa.int32()),
        ("age_max", pa.int32()),
        ("child_drug", pa.bool_()),
        ("hosp_lv", pa.list_(pa.string())),
        ("med_type", pa.list_(pa.string())),
        ("diag_codes", pa.list_(pa.string())),
        ("max_days", pa.decimal128(16, 4)),
        ("max_cnt", pa.decimal128(16, 4)),
    ]
)
#: the name the terms are registered under on the read's cursor
_TERMS = "replay_restricted_terms"


def _terms_table(terms: Iterable[RestrictedTerm]) -> pa.Table:
    rows = [
        {
            "hilist_code": t.hilist_code,
            "begndate": t.begndate,
            "enddate": t.enddate,
            "gend": t.gend,
            "age_min": t.age_min,
            "age_max": t.age_max,
            "child_drug": t.child_drug,
            "hosp_lv": list(t.hosp_lv),
            "med_type": list(t.med_type),
            "diag_codes": list(t.diag_codes),
            "max_days": t.max_days,
            "max_cnt": t.max_cnt,
        }
        for t in terms
    ]
    return pa.Table.from_pylist(rows, schema=_TERMS_SCHEMA)


#: A line's restricted term on its fee day that the line's context may break. Each clause
#: keeps at least every line the rule of its restriction (yibao.risk.rules) can find: sex
#: (gender_limit), an age band or a children's drug (child_only, age_limit: `$child_age` is
#: the smallest child age of the rules), levels (hosp_lv_limit), visit types
#: (med_type_limit), indications without a qualifying diagnosis and not billed as self-pay
#: (indication_limit), quantity and days (over_quantity). The rules decide; a clause that
#: keeps more than its rule finds costs time, never a finding.
_BREAKS_A_TERM = f"""
EXISTS (
  SELECT 1 FROM {_TERMS} t
  WHERE t.hilist_code = f.hilist_code
    AND CAST(CAST(f.fee_ocur_time AS TIMESTAMP) AS DATE)
        BETWEEN t.begndate AND COALESCE(t.enddate, DATE '9999-12-31')
    AND (
      (t.gend IS NOT NULL AND s.gend IN ('1', '2') AND s.gend <> t.gend)
      OR (s.age IS NOT NULL AND (
            (t.age_min IS NOT NULL AND s.age < t.age_min)
            OR (t.age_max IS NOT NULL AND s.age >= t.age_max)
            OR (t.child_drug AND s.age >= $child_age)))
      OR (len(t.hosp_lv) > 0 AND NOT list_contains(t.hosp_lv, COALESCE(i.hosp_lv, '')))
      OR (len(t.med_type) > 0 AND NOT (
            list_contains(t.med_type, f.med_type)
            OR (list_contains(t.med_type, 'ipt') AND (f.med_type LIKE '2%' OR f.med_type = '52'))
            OR (list_contains(t.med_type, 'otp')
                AND NOT (f.med_type LIKE '2%' OR f.med_type = '52'))))
      OR (len(t.diag_codes) > 0 AND f.hosp_appr_flag IS DISTINCT FROM '2'
          AND len(list_filter(
                list_concat([COALESCE(m.maindiag_code, s.maindiag_code, '')],
                            COALESCE(string_split(m.diag_codes, ','), [])),
                lambda d: d <> '' AND len(list_filter(
                t.diag_codes, lambda p: starts_with(upper(d), upper(p)))) > 0)) = 0)
      OR (t.max_cnt IS NOT NULL AND f.cnt > t.max_cnt)
      OR (t.max_days IS NOT NULL AND f.prd_days > t.max_days)
    )
)"""

#: the lines a re-run could find something on (see the module's docstring): a line that may
#: break its restricted term, an item the knowledge base names, a line outside the catalog,
#: a pharmacy's non-drug, one of two equal charges of a bill
_LINES = """
WITH dup AS (
  SELECT setl_id, hilist_code, fee_ocur_time, cnt, pric, true AS twice
  FROM fee_fact
  WHERE setl_date BETWEEN $since AND $until
  GROUP BY ALL
  HAVING count(*) > 1
),
pharmacies AS (SELECT fixmedins_code FROM fixmedins_dim WHERE kind = 'pharmacy'),
-- the lines worth a look before any join: cheap tests on the line alone
near AS (
  SELECT f.*
  FROM fee_fact f
  WHERE f.setl_date BETWEEN $since AND $until
    AND ({everything}
      OR f.list_type IS NULL
      OR f.hilist_code IN (SELECT unnest($codes::VARCHAR[]))
      OR ((f.visit_kind = 'pharmacy' OR f.fixmedins_code IN (SELECT fixmedins_code FROM pharmacies))
          AND f.list_type NOT IN (SELECT unnest($drugs::VARCHAR[])))
      OR f.setl_id IN (SELECT setl_id FROM dup)
    )
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
       f.feedetl_sn, CAST(f.fee_ocur_time AS TIMESTAMP), f.hilist_code, f.list_type,
       CAST(f.cnt * 10000 AS BIGINT), CAST(f.pric * 1000000 AS BIGINT),
       CAST(f.det_item_fee_sumamt * 100 AS BIGINT), CAST(f.prd_days * 10000 AS BIGINT),
       f.hosp_appr_flag, f.forced_selfpay, h.rule_ids
FROM near f
LEFT JOIN fixmedins_dim i ON i.fixmedins_code = f.fixmedins_code
LEFT JOIN dup d ON d.setl_id = f.setl_id AND d.hilist_code = f.hilist_code
     AND d.fee_ocur_time = f.fee_ocur_time AND d.cnt = f.cnt
     AND d.pric IS NOT DISTINCT FROM f.pric
LEFT JOIN mdtrt_fact m ON m.mdtrt_id = f.mdtrt_id
LEFT JOIN setl_fact s ON s.setl_id = f.setl_id
LEFT JOIN psn_dim p ON p.psn_ref = f.psn_ref
LEFT JOIN seen h ON h.mdtrt_id = f.mdtrt_id
WHERE {everything}
   OR f.list_type IS NULL
   OR f.hilist_code IN (SELECT unnest($named::VARCHAR[]))
   OR ((COALESCE(m.mdtrt_kind, f.visit_kind) = 'pharmacy' OR i.kind = 'pharmacy')
       AND f.list_type NOT IN (SELECT unnest($drugs::VARCHAR[])))
   OR d.twice
   OR {breaks}
ORDER BY f.setl_id, f.fee_ocur_time,
         TRY_CAST(f.feedetl_sn AS BIGINT) NULLS LAST, f.feedetl_sn
"""

#: rows fetched from DuckDB at a time
_FETCH = 20_000


def _diagnoses(main: str | None, codes: str | None) -> tuple[str, ...]:
    listed = codes.split(",") if codes else []
    return tuple(dict.fromkeys(c for c in (main, *listed) if c))


class _Exact:
    """Scaled integers back to exact Decimals, each distinct value made once."""

    def __init__(self, places: int) -> None:
        self.places = places
        self._memo: dict[int, Decimal] = {}

    def __call__(self, scaled: int | None) -> Decimal | None:
        if scaled is None:
            return None
        found = self._memo.get(scaled)
        if found is None:
            found = Decimal(scaled).scaleb(-self.places)
            if len(self._memo) < _MEMO_LIMIT:
                self._memo[scaled] = found
        return found


#: distinct quantities, prices and amounts remembered per read (bounds memory, not results)
_MEMO_LIMIT = 200_000


def settled_bills(
    cur: duckdb.DuckDBPyConnection,
    since: date,
    until: date,
    terms: Sequence[RestrictedTerm],
    named: Collection[str],
    child_age: int,
    *,
    narrow: bool = True,
) -> Iterator[SettledBill]:
    """The bills settled in [since, until] with a line a re-run could find something on (it
    may break its item's restricted term `terms`, its item is `named` by the knowledge base,
    …), each once with those lines, in upload order (fee time, then the serial number as a
    number where it is one). `narrow=False` hands every settled line over (what the narrowing
    is tested against)."""
    sql = _LINES.format(everything="false" if narrow else "true", breaks=_BREAKS_A_TERM)
    # registering needs the cursor's last result finished: a new statement finishes it
    cur.execute("SELECT 1").fetchall()
    cur.register(_TERMS, _terms_table(terms))
    try:
        cur.execute(
            sql,
            {
                "since": since,
                "until": until,
                "named": sorted(named),
                "codes": sorted({t.hilist_code for t in terms} | set(named)),
                "drugs": sorted(DRUG_LIST_TYPES),
                "child_age": child_age,
            },
        )
        yield from _read(cur)
    finally:
        # an error above may have aborted the transaction: let it be the one that is raised
        with suppress(duckdb.Error):
            cur.unregister(_TERMS)


def _read(cur: duckdb.DuckDBPyConnection) -> Iterator[SettledBill]:
    qty, price, fen = _Exact(4), _Exact(6), _Exact(2)
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
                    str(r[17]),
                    r[18],
                    r[19],
                    r[20],
                    qty(r[21]) or Decimal(0),
                    price(r[22]) or Decimal(0),
                    fen(r[23]) or Decimal(0),
                    qty(r[24]),
                    r[25],
                    r[26] == "1",
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
        hit_before=frozenset(r[27] or ()),
    )
