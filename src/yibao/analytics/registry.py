"""The registry of named, parameterised analytic queries.

Every query has a name, a Chinese title, its parameters, the SQL it runs on the DuckDB
replica (`$name` parameters) and a row-store variant (`:name` parameters; `{hint}` marks
where a TiFlash hint goes) used on TiDB and by the benchmark's comparison. The SQL is built
once from the dimension specs (`analytics.dims`) and can be read as text:
`registry()["by_institution"].duckdb`.

Indicator queries (`by_<dim>`, `summary`) return the base measures (counts and sums); the
indicators (次均费用, 药占比, …) are derived from them exactly, in `analytics.indicators`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from yibao.analytics.dims import (
    DIALECT,
    DIMS,
    FILTERS,
    ROLLUP_FILTERS,
    ROW_SIGN,
    Dim,
    replica_measures,
    row_measures,
)
from yibao.errors import InvalidInput
from yibao.kit import clock
from yibao.replica import persons

_PARAM_RE = re.compile(r"\$([a-z_]+)")
_CODE_RE = re.compile(r"^[0-9A-Za-z._-]{1,30}$")


@dataclass(frozen=True)
class Param:
    name: str
    title: str
    #: date | code | int
    kind: str = "code"
    default: Any = None
    required: bool = False

    def read(self, raw: Any) -> Any:
        if raw is None or raw == "":
            if self.required:
                raise InvalidInput(f"{self.name}: 必填 (required): {self.title}")
            return self.default
        if self.kind == "date":
            if isinstance(raw, date):
                return raw
            try:
                return clock.parse_date(str(raw))
            except ValueError:
                raise InvalidInput(
                    f"{self.name}: 日期格式应为 yyyy-MM-dd (date expected as yyyy-MM-dd): {raw}"
                ) from None
        if self.kind == "int":
            try:
                value = int(raw)
            except (TypeError, ValueError):
                raise InvalidInput(f"{self.name}: 应为整数 (an integer): {raw}") from None
            if not 0 <= value <= 10_000:
                raise InvalidInput(f"{self.name}: 超出范围 0–10000 (out of range): {raw}")
            return value
        text = str(raw).strip()
        if not _CODE_RE.match(text):
            raise InvalidInput(f"{self.name}: 编码格式错误 (malformed code): {text[:40]!r}")
        return text


DATE_FROM = Param("date_from", "开始日期", "date")
DATE_TO = Param("date_to", "结束日期", "date")
LIMIT = Param("limit", "条数", "int", 100)
OFFSET = Param("offset", "偏移", "int", 0)


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    params: tuple[Param, ...]
    duckdb: str
    #: row-store SQL per dialect (sqlite, mysql); `{hint}` is replaced (TiFlash hint or "")
    rowstore: dict[str, str]
    #: indicators | rows
    shape: str = "indicators"
    dim: str | None = None
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: DuckDB SQL for particular parameter values (None: use `duckdb`) — the summary without
    #: filters counts persons from the persons-served rollup instead of the fact table
    duckdb_variant: Callable[[dict[str, Any]], str | None] | None = None

    def bind(self, raw: dict[str, Any] | None) -> dict[str, Any]:
        """Read and default the parameters (dates default to this month up to today)."""
        raw = raw or {}
        unknown = set(raw) - {p.name for p in self.params} - {"consistency", "max_lag_ms"}
        if unknown:
            raise InvalidInput(
                f"{sorted(unknown)[0]}: 查询 {self.name} 没有此参数 (unknown parameter; "
                f"allowed: {', '.join(p.name for p in self.params)})"
            )
        values = {p.name: p.read(raw.get(p.name)) for p in self.params}
        today = clock.now().date()
        if "date_to" in values and values["date_to"] is None:
            values["date_to"] = today
        if "date_from" in values and values["date_from"] is None:
            values["date_from"] = values["date_to"].replace(day=1)
        if "date_from" in values and values["date_from"] > values["date_to"]:
            raise InvalidInput("date_from: 开始日期晚于结束日期 (date_from after date_to)")
        return values

    def duckdb_params(self, values: dict[str, Any]) -> dict[str, Any]:
        return self.duckdb_for(values)[1]

    def duckdb_for(self, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The DuckDB SQL to run for bound `values`, and the parameters it uses."""
        sql = (self.duckdb_variant(values) if self.duckdb_variant else None) or self.duckdb
        used = set(_PARAM_RE.findall(sql))
        return sql, {k: v for k, v in values.items() if k in used}

    def row_params(self, values: dict[str, Any]) -> dict[str, Any]:
        out = dict(values)
        if "date_from" in values:
            out["t0"] = datetime.combine(values["date_from"], datetime.min.time())
            out["t1"] = datetime.combine(values["date_to"] + timedelta(days=1), datetime.min.time())
            del out["date_from"], out["date_to"]
        return out


def _replica_where(rollup: str, filters: tuple[str, ...]) -> str:
    conds = ["r.setl_date BETWEEN $date_from AND $date_to"]
    conds += [f"(${f} IS NULL OR {FILTERS[f].replica} = ${f})" for f in filters]
    del rollup
    return " AND ".join(conds)


def _row_where(filters: tuple[str, ...]) -> str:
    conds = ["s.setl_time >= :t0 AND s.setl_time < :t1"]
    conds += [f"(:{f} IS NULL OR {FILTERS[f].row} = :{f})" for f in filters]
    return " AND ".join(conds)


def _row_dim(dim: Dim, dialect: str) -> str:
    d = DIALECT[dialect]
    return dim.row.format(
        day=d["day"].format(c="s.setl_time"), month=d["month"].format(c="s.setl_time")
    )


def _indicator_query(
    dim: Dim, *, name: str | None = None, title: str | None = None, top: bool = False
) -> Query:
    filters = ROLLUP_FILTERS[dim.rollup]
    order_key = "dim_key" if dim.ordered_by_key else "fund_pay_sumamt DESC, dim_key"
    name_col_r = ", MAX(d.fixmedins_name) AS name" if dim.institution else ""
    join_r = (
        " LEFT JOIN fixmedins_dim d ON d.fixmedins_code = r.fixmedins_code"
        if dim.institution
        else ""
    )
    limit = " LIMIT $limit" if top else ""
    duck = (
        f"SELECT COALESCE({dim.replica}, '') AS dim_key{name_col_r},\n  {replica_measures()}\n"
        f"FROM {dim.rollup} r{join_r}\nWHERE {_replica_where(dim.rollup, filters)}\n"
        f"GROUP BY 1\nORDER BY {order_key}{limit}"
    )
    rowstore = {}
    for dialect in DIALECT:
        name_col = ", MAX(f.fixmedins_name) AS name" if dim.institution else ""
        rowstore[dialect] = (
            f"SELECT {{hint}}COALESCE({_row_dim(dim, dialect)}, '') AS dim_key{name_col},\n  "
            f"{row_measures(dialect)}\n"
            f"FROM setl s JOIN fixmedins f ON f.fixmedins_code = s.fixmedins_code\n"
            f"WHERE {_row_where(filters)}\nGROUP BY 1\nORDER BY {order_key}"
            + (" LIMIT :limit" if top else "")
        )
    params = (DATE_FROM, DATE_TO, *(Param(f, FILTERS[f].title) for f in filters))
    if top:
        params = (*params, Param("limit", "条数", "int", 10))
    return Query(
        name=name or f"by_{dim.name}",
        title=title or f"费用指标（按{dim.title}）",
        params=params,
        duckdb=duck,
        rowstore=rowstore,
        dim=dim.name,
    )


#: summaries of ranges shorter than this count persons on the fact table: a month of facts
#: costs about what the rollup does with its anti-join of the open days, a year far more
#: (docs/analytics.md, docs/measurements.md)
FACT_DAYS = 31


def _summary_query() -> Query:
    """Totals of the period plus persons served (a distinct count). Without filters the count
    reads the persons-served rollup (`replica.persons`, a row per person and year); with a
    filter it reads the fact table, which that rollup does not break down by."""
    filters = ROLLUP_FILTERS["agg_day"]
    fact_conds = ["setl_date BETWEEN $date_from AND $date_to"] + [
        f"(${f} IS NULL OR {FILTERS[f].replica.replace('r.', '')} = ${f})" for f in filters
    ]
    totals = (
        f"SELECT t.*, p.psn_cnt FROM (\n SELECT 'total' AS dim_key,\n  {replica_measures()}\n"
        f" FROM agg_day r WHERE {_replica_where('agg_day', filters)}\n) t CROSS JOIN (\n"
    )
    duck = totals + f" SELECT {persons.fact_count_sql(' AND '.join(fact_conds))} AS psn_cnt\n) p"

    def unfiltered(values: dict[str, Any]) -> str | None:
        if any(values.get(f) is not None for f in filters):
            return None
        if (values["date_to"] - values["date_from"]).days < FACT_DAYS:
            return None  # a few weeks of facts cost no more than the rollup's row per person
        return totals + " " + persons.count_sql(values["date_from"], values["date_to"]) + "\n) p"

    rowstore = {
        dialect: (
            f"SELECT {{hint}}'total' AS dim_key,\n  {row_measures(dialect)},\n"
            "  COUNT(DISTINCT CASE WHEN s.refd_setl_flag = '0' AND s.vali_flag = '1' "
            "THEN s.psn_no END) AS psn_cnt\n"
            "FROM setl s JOIN fixmedins f ON f.fixmedins_code = s.fixmedins_code\n"
            f"WHERE {_row_where(filters)}"
        )
        for dialect in DIALECT
    }
    return Query(
        name="summary",
        title="基金支出与结算概况（含就诊人数）",
        params=(DATE_FROM, DATE_TO, *(Param(f, FILTERS[f].title) for f in filters)),
        duckdb=duck,
        rowstore=rowstore,
        dim="total",
        duckdb_variant=unfiltered,
    )


SETTLEMENT_COLUMNS = (
    "setl_id",
    "setl_time",
    "fixmedins_code",
    "insutype",
    "med_type",
    "psn_type",
    "maindiag_code",
    "refd_setl_flag",
    "vali_flag",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "hifp_pay",
    "acct_pay",
    "psn_cash_pay",
)


def _settlements_query() -> Query:
    """Drill-down to single settlements of an institution (no personal identifiers)."""
    cols = ", ".join(SETTLEMENT_COLUMNS)
    duck = (
        f"SELECT {cols} FROM setl_fact\n"
        "WHERE setl_date BETWEEN $date_from AND $date_to AND fixmedins_code = $fixmedins_code\n"
        "ORDER BY setl_time DESC, setl_id LIMIT $limit OFFSET $offset"
    )
    row_cols = ", ".join(f"s.{c}" for c in SETTLEMENT_COLUMNS)
    rowstore = {
        dialect: (
            f"SELECT {{hint}}{row_cols} FROM setl s\n"
            "WHERE s.setl_time >= :t0 AND s.setl_time < :t1 AND s.fixmedins_code = :fixmedins_code\n"
            "ORDER BY s.setl_time DESC, s.setl_id LIMIT :limit OFFSET :offset"
        )
        for dialect in DIALECT
    }
    return Query(
        name="settlements",
        title="结算明细（机构下钻）",
        params=(
            DATE_FROM,
            DATE_TO,
            Param("fixmedins_code", "定点机构编码", required=True),
            LIMIT,
            OFFSET,
        ),
        duckdb=duck,
        rowstore=rowstore,
        shape="rows",
    )


@cache
def registry() -> dict[str, Query]:
    queries = [_summary_query()]
    queries += [_indicator_query(d) for d in DIMS.values() if d.name != "total"]
    queries.append(
        _indicator_query(
            DIMS["institution"], name="top_institutions", title="基金支出前列的定点机构", top=True
        )
    )
    queries.append(_settlements_query())
    return {q.name: q for q in queries}


def get(name: str) -> Query:
    query = registry().get(name)
    if query is None:
        raise InvalidInput(
            f"query: 没有名为 {name!r} 的分析查询 (unknown query; see /api/v1/analytics)"
        )
    return query


__all__ = ["ROW_SIGN", "Param", "Query", "get", "registry"]
