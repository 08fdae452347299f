"""Several indicator panels from one scan of a rollup (DuckDB `GROUPING SETS`).

The dashboard shows the month to date by 险种, 就诊类型, 机构等级, 医疗类别 and 医保区划: five
`by_<dim>` queries over the same rows of `agg_day` with the same parameters. DuckDB's grouped
aggregate has a fixed price per summed column and per query (28 measures each), so five
queries cost about three times what one scan grouped five ways does — and the dashboard is
recomputed while the city settles (the operations issue's interference goal). `plan` finds the
queries of a batch that can share a scan; `split` turns the scan's rows back into each query's
answer, in the order its own SQL would have returned them (tests hold the two equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from yibao.analytics.dims import DIMS, FILTERS, ROLLUP_FILTERS, replica_measures
from yibao.analytics.registry import Query
from yibao.replica.schema import MEASURE_NAMES

#: the rollup the shared scans read (the institution and diagnosis rollups join or differ)
ROLLUP = "agg_day"
COLUMNS = ("dim_key", *MEASURE_NAMES)
_FUND = COLUMNS.index("fund_pay_sumamt")


@dataclass(frozen=True)
class Scan:
    """One scan answering `panels` (their names), each grouped by its own dimension."""

    panels: tuple[str, ...]
    dims: tuple[str, ...]
    sql: str
    params: dict[str, Any]


def shareable(query: Query) -> bool:
    """A plain `by_<dim>` query over the day rollup (no limit, no joined names)."""
    if query.shape != "indicators" or query.dim is None or query.name != f"by_{query.dim}":
        return False
    dim = DIMS[query.dim]
    return dim.rollup == ROLLUP and not dim.institution


def plan(
    bound: Sequence[tuple[str, Query, dict[str, Any]]],
) -> tuple[list[Scan], list[tuple[str, Query, dict[str, Any]]]]:
    """Group the shareable queries with equal parameters into scans; the rest run alone."""
    groups: dict[tuple[tuple[str, Any], ...], list[tuple[str, Query]]] = {}
    alone: list[tuple[str, Query, dict[str, Any]]] = []
    for panel, query, values in bound:
        if shareable(query):
            groups.setdefault(tuple(sorted(values.items())), []).append((panel, query))
        else:
            alone.append((panel, query, values))
    scans: list[Scan] = []
    for key, members in groups.items():
        values = dict(key)
        if len(members) == 1:
            panel, query = members[0]
            alone.append((panel, query, values))
            continue
        dims = tuple(str(q.dim) for _p, q in members)
        scans.append(Scan(tuple(p for p, _q in members), dims, scan_sql(dims), values))
    return scans, alone


def scan_sql(dims: Sequence[str]) -> str:
    """One aggregate of the day rollup grouped by each of `dims` apart (`GROUPING SETS`).

    The keys are projected first (`k0`, `k1`, …) so that `GROUPING` names plain columns; a
    row of set *i* has bit *i* clear in `grouping_id` (the leftmost key is the highest bit)."""
    filters = ROLLUP_FILTERS[ROLLUP]
    keys = ", ".join(f"COALESCE({DIMS[d].replica}, '') AS k{i}" for i, d in enumerate(dims))
    where = ["r.setl_date BETWEEN $date_from AND $date_to"]
    where += [f"(${f} IS NULL OR {FILTERS[f].replica} = ${f})" for f in filters]
    names = ", ".join(f"k{i}" for i in range(len(dims)))
    sets = ", ".join(f"(k{i})" for i in range(len(dims)))
    return (
        f"SELECT GROUPING({names}) AS grouping_id, {names},\n  {replica_measures('r')}\n"
        f"FROM (SELECT {keys}, * FROM {ROLLUP} r WHERE {' AND '.join(where)}) r\n"
        f"GROUP BY GROUPING SETS ({sets})"
    )


def split(scan: Scan, records: Sequence[Sequence[Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """Each panel's rows `(dim_key, *measures)` from the scan's rows, ordered as the panel's
    own query orders them (time by key; the others by fund paid, largest first, then key)."""
    n = len(scan.dims)
    per_set: list[list[tuple[Any, ...]]] = [[] for _ in range(n)]
    for record in records:
        grouping_id = int(record[0])
        for i in range(n):
            if not grouping_id >> (n - 1 - i) & 1:
                per_set[i].append((record[1 + i], *record[1 + n :]))
                break
    out: dict[str, list[tuple[Any, ...]]] = {}
    for panel, dim, rows in zip(scan.panels, scan.dims, per_set, strict=True):
        if DIMS[dim].ordered_by_key:
            rows.sort(key=lambda r: r[0])
        else:
            rows.sort(key=lambda r: (_negated(r[_FUND]), r[0]))
        out[panel] = rows
    return out


def _negated(amount: Any) -> Decimal:
    return -Decimal(amount)
