"""The persons-served rollup: one row per (year, psn_ref), the days served as a bitmap.

*Persons served* over a period is a distinct count of persons — by their keyed pseudonym
`psn_ref` (`replica.pseudonym`), one per person — among valid originals
(`refd_setl_flag` "0", `vali_flag` "1") — not additive, so the per-day rollups cannot answer
it, and counting distinct over a year of the fact table is a hash aggregate of every
settlement's 20-character key on one thread (docs/measurements.md). This table keeps,
per person and year, which days (day of year 0..365) they were served, as six 64-bit words
`d0..d5`: a person is served in [from, to] iff a word ANDed with the range's mask is not
zero, so the count over any range of one year is a `count(*)` over ~one row per person
(multi-year ranges: a distinct count over those rows), exactly the fact table's answer.

The table holds the days **before** its frontier (`agg_year_psn_open.open_from`, a one-row
table): the days from the frontier on are counted from the fact table at query time, and
persons found there but not in the rollup are added (an anti-join of a day or two of facts).
So a micro-batch of today's settlements does not touch this table at all — merging a batch
into a row per person scans the persons' keys twice, more work than the rest of the batch.
The applier moves the frontier up to yesterday when a batch reaches a new
day (`seal`: the days in between merged once), a batch that changes an older day merges that
day for the persons it touched, and a full refresh rebuilds every day before the latest.

Merging "served on day D" recomputes it from the fact table for a set of persons and days:
the bits of those days are cleared for those persons and set again from the facts
(`merge_statements`). The filters of `summary` (region, level, …) are not in this table:
filtered counts still read the fact table.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from yibao.replica.schema import psn_key_sql

TABLE = "agg_year_psn"
OPEN = "agg_year_psn_open"
WORDS = 6  # 6 × 64 bits ≥ 366 days
_ALL = (1 << 64) - 1
_DAY_INDEX = "(dayofyear({c}) - 1)"
VALID = "refd_setl_flag = '0' AND vali_flag = '1' AND psn_ref IS NOT NULL"


def fact_count_sql(where: str) -> str:
    """Distinct persons among the valid fact rows passing `where`: on the integer `psn_key`
    (the pseudonym's first 64 bits, `replica.schema`), on the text for rows without one —
    the two sets never overlap. Two scans, not two FILTERed aggregates in one: DuckDB hashes every row's text
    for the second even when no row passes (docs/measurements.md)."""
    rows = f"FROM setl_fact WHERE {where} AND {VALID}"
    return (
        f"(SELECT COUNT(DISTINCT psn_key) {rows}) + "
        f"(SELECT COUNT(DISTINCT psn_ref) {rows} AND psn_key IS NULL)"
    )


DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (\n  year INTEGER NOT NULL,\n  psn_ref VARCHAR NOT NULL,\n  "
    + ",\n  ".join(f"d{k} UBIGINT NOT NULL" for k in range(WORDS))
    + ",\n  psn_key UBIGINT\n)"
)
#: the first day not in the rollup (NULL: none is — everything is counted on the facts)
OPEN_DDL = f"CREATE TABLE IF NOT EXISTS {OPEN} (open_from DATE)"
_OPEN_FROM = f"(SELECT max(open_from) FROM {OPEN})"


def _word_bits(column: str) -> str:
    """`bit_or` of each word over rows with a date in `column` (NULL dates give 0)."""
    x = _DAY_INDEX.format(c=column)
    return ", ".join(
        f"COALESCE(bit_or(CASE WHEN {x} // 64 = {k} THEN CAST(1 AS UBIGINT) << CAST({x} % 64 "
        f"AS INTEGER) ELSE CAST(0 AS UBIGINT) END), CAST(0 AS UBIGINT)) AS d{k}"
        for k in range(WORDS)
    )


def day_index(day: date) -> int:
    return (day - date(day.year, 1, 1)).days


def mask_words(lo: int, hi: int) -> tuple[int, ...]:
    """The words of a bitmap with days `lo..hi` (inclusive) set."""
    if hi < lo:
        return (0,) * WORDS
    mask = ((1 << (hi - lo + 1)) - 1) << lo
    return tuple((mask >> (64 * k)) & _ALL for k in range(WORDS))


def year_masks(days: Iterable[date]) -> dict[int, tuple[int, ...]]:
    """Per year, the words with the given days set."""
    out: dict[int, list[int]] = {}
    for d in days:
        words = out.setdefault(d.year, [0] * WORDS)
        i = day_index(d)
        words[i // 64] |= 1 << (i % 64)
    return {y: tuple(w) for y, w in out.items()}


def range_masks(date_from: date, date_to: date) -> dict[int, tuple[int, ...]]:
    """Per year of [date_from, date_to], the words of the days of the range in that year."""
    out = {}
    for year in range(date_from.year, date_to.year + 1):
        lo = day_index(date_from) if year == date_from.year else 0
        hi = day_index(date_to) if year == date_to.year else 365
        out[year] = mask_words(lo, hi)
    return out


def _masks_values(masks: dict[int, tuple[int, ...]]) -> str:
    """A VALUES list `(year, m0..m5)` of integer literals (computed here, never user text)."""
    return ", ".join(
        "(" + ", ".join([str(int(y)), *(f"CAST({int(w)} AS UBIGINT)" for w in words)]) + ")"
        for y, words in sorted(masks.items())
    )


def count_sql(date_from: date, date_to: date) -> str:
    """Persons served in [date_from, date_to] (a scalar subquery's body, column `psn_cnt`):
    those with a bit of the range in the rollup, plus those served on the range's days from
    the frontier on (fact table) who are not among them."""
    masks = range_masks(date_from, date_to)
    hit = " OR ".join(f"(a.d{k} & m.m{k}) <> 0" for k in range(WORDS))
    # one row per person and year: within one year a plain count is the distinct count
    what = "count(*)" if len(masks) == 1 else "count(DISTINCT a.psn_ref)"
    cols = ", ".join(f"m{k}" for k in range(WORDS))
    masks_sql = f"(VALUES {_masks_values(masks)}) AS m(year, {cols})"
    d0, d1 = f"DATE '{date_from.isoformat()}'", f"DATE '{date_to.isoformat()}'"
    open_days = (
        f"FROM setl_fact WHERE setl_date BETWEEN {d0} AND {d1} "
        f"AND setl_date >= COALESCE({_OPEN_FROM}, {d0}) AND {VALID}"
    )
    # the open days' persons not already in the rollup: on psn_key (integers: the anti-join
    # hashes a row per person, cheaper than on the text), the text for persons without one
    in_rollup = f"SELECT 1 FROM {TABLE} a JOIN {masks_sql} ON a.year = m.year WHERE ({hit})"
    return (
        f"SELECT (SELECT {what} FROM {TABLE} a JOIN {masks_sql} ON a.year = m.year WHERE {hit})"
        f" + (SELECT count(*) FROM (SELECT DISTINCT psn_key {open_days} AND psn_key IS NOT NULL)"
        f" x WHERE NOT EXISTS ({in_rollup} AND a.psn_key = x.psn_key))"
        f" + (SELECT count(*) FROM (SELECT DISTINCT psn_ref {open_days} AND psn_key IS NULL) x "
        f"WHERE NOT EXISTS ({in_rollup} AND a.psn_key IS NULL AND a.psn_ref = x.psn_ref))"
        " AS psn_cnt"
    )


def open_from(cur: Any) -> date | None:
    rows = cur.execute(f"SELECT max(open_from) FROM {OPEN}").fetchall()  # fetchone leaves
    return rows[0][0] if rows else None  # the result open, blocking the next statement


def rebuild_statements() -> list[str]:
    """Every day before the latest again from the fact table (a bulk load's or rebuild's
    `refresh_rollups()`); the latest day stays open, as the applier is likely to add to it."""
    latest = "(SELECT max(setl_date) FROM setl_fact)"
    return [
        f"DELETE FROM {TABLE}",
        f"DELETE FROM {OPEN}",
        f"INSERT INTO {OPEN} SELECT {latest}",
        f"INSERT INTO {TABLE} SELECT year(setl_date), psn_ref, {_word_bits('setl_date')}, "
        f"max(psn_key) FROM setl_fact WHERE {VALID} AND setl_date < {_OPEN_FROM} "
        "GROUP BY 1, 2 ORDER BY 1, 2",
    ]


def sealed(days: Iterable[date], open_day: date | None) -> list[date]:
    """The days the rollup holds (before the frontier): the ones a change must merge."""
    return sorted({d for d in days if open_day is not None and d < open_day})


def days_to_seal(
    cur: Any, upto: date, known: tuple[date | None] | None = None
) -> list[date] | None:
    """The days with settlements between the frontier and `upto` (all before `upto` when there
    is no frontier yet, as on a replica filled by the log); None when `upto` is not past it.
    `known`: `(frontier,)` as the caller just read it in this transaction (None: read it)."""
    current = open_from(cur) if known is None else known[0]
    if current is not None and upto <= current:
        return None
    found = cur.execute(
        "SELECT DISTINCT setl_date FROM setl_fact WHERE setl_date >= COALESCE(?, DATE '0001-01-01')"
        " AND setl_date < ?",
        [current, upto],
    ).fetchall()
    return sorted(r[0] for r in found)


def set_open_statements(upto: date) -> list[str]:
    return [f"DELETE FROM {OPEN}", f"INSERT INTO {OPEN} VALUES (DATE '{upto.isoformat()}')"]


def merge_statements(dates: list[date], persons: str) -> list[str]:
    """Recompute the bits of `dates` for the persons `persons` (a subquery yielding psn_ref)
    from setl_fact: clear those days' bits and set the ones the facts hold again.

    UPDATE then INSERT … WHERE NOT EXISTS (no primary key: DuckDB's `ON CONFLICT DO UPDATE`
    is slower on this shape (docs/measurements.md), and an index would cost memory on a table
    of a row per person).
    """
    masks = year_masks(dates)
    listed = ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(set(dates)))
    years = ", ".join(f"({y})" for y in sorted(masks))
    fresh = (
        f"SELECT y.year, t.psn_ref, {_word_bits('f.setl_date')} "
        f"FROM (SELECT DISTINCT psn_ref FROM ({persons}) WHERE psn_ref IS NOT NULL) t "
        f"CROSS JOIN (VALUES {years}) AS y(year) "
        f"LEFT JOIN (SELECT psn_ref, setl_date FROM setl_fact WHERE setl_date IN ({listed}) "
        f"AND {VALID} AND psn_ref IN ({persons})) f "
        "ON f.psn_ref = t.psn_ref AND year(f.setl_date) = y.year GROUP BY 1, 2"
    )
    clear = {
        k: "CASE a.year "
        + " ".join(f"WHEN {y} THEN CAST({int(w[k])} AS UBIGINT)" for y, w in sorted(masks.items()))
        + " ELSE CAST(0 AS UBIGINT) END"
        for k in range(WORDS)
    }
    sets = ", ".join(f"d{k} = (a.d{k} & ~({clear[k]})) | f.d{k}" for k in range(WORDS))
    any_bit = " | ".join(f"f.d{k}" for k in range(WORDS))
    return [
        f"UPDATE {TABLE} AS a SET {sets} FROM ({fresh}) AS f "
        "WHERE a.year = f.year AND a.psn_ref = f.psn_ref",
        f"INSERT INTO {TABLE} SELECT f.*, {psn_key_sql('f.psn_ref')} FROM ({fresh}) AS f "
        f"WHERE ({any_bit}) <> 0 AND NOT "
        f"EXISTS (SELECT 1 FROM {TABLE} a WHERE a.year = f.year AND a.psn_ref = f.psn_ref)",
    ]


def refresh_persons_sql(dates: list[date]) -> str:
    """Everyone who may have a bit of `dates`: had one, or has a valid settlement on them."""
    masks = year_masks(dates)
    listed = ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(set(dates)))
    hit = " OR ".join(f"(a.d{k} & m.m{k}) <> 0" for k in range(WORDS))
    cols = ", ".join(f"m{k}" for k in range(WORDS))
    return (
        f"SELECT a.psn_ref FROM {TABLE} a JOIN (VALUES {_masks_values(masks)}) AS m(year, {cols})"
        f" ON a.year = m.year WHERE {hit} UNION "
        f"SELECT psn_ref FROM setl_fact WHERE setl_date IN ({listed}) AND {VALID}"
    )


def check_sql() -> tuple[str, str]:
    """(from the rollup, from the facts before the frontier): person-years and person-days
    served."""
    bits = " + ".join(f"bit_count(d{k})" for k in range(WORDS))
    nonzero = " OR ".join(f"d{k} <> 0" for k in range(WORDS))
    sealed_facts = f"setl_fact WHERE {VALID} AND setl_date < {_OPEN_FROM}"
    return (
        f"SELECT count(*) FILTER (WHERE {nonzero}), COALESCE(SUM({bits}), 0) FROM {TABLE}",
        "SELECT (SELECT count(*) FROM (SELECT DISTINCT year(setl_date), psn_ref FROM "
        f"{sealed_facts})), (SELECT count(*) FROM (SELECT DISTINCT setl_date, psn_ref FROM "
        f"{sealed_facts}))",
    )
