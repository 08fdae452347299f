"""The replica's tables in DuckDB, the Arrow shapes of change-log batches, and the rollups.

Facts and dimensions mirror the payload contract (`replica.rows`): one column per payload
field, amounts converted from integer fen to DECIMAL(16,2) **exactly** in SQL
(`fen::DECIMAL(18,0) * 0.01`, a decimal multiplication, never a float). Only the columns
named here reach the replica, so a personal identifier slipped into a payload by mistake
(certno, name, phone …) is dropped on the way in, and a person is carried only as the keyed
pseudonym `psn_ref` (`replica.pseudonym`): `psn_no` itself never reaches the file.

Rollups are per-day tables keyed by the dashboard's dimensions. The applier appends each
batch's signed difference to them (a batch with deletes recomputes its days from the fact
table), in the same DuckDB transaction as the batch and the `applied_seq` update: the sum of a
rollup's rows of a day and key is always exactly `f(fact)`; a day is compacted to one row per
key when it is sealed (`ReplicaStore._seal`). Persons served (a distinct count) has its own rollup,
`replica.persons`.

Counting rule (fund-ledger style): every settlement record counts `sign` = +1, a reversal
record (`refd_setl_flag` "1", amounts negated) counts −1 on the day it was booked. Sums of
counts and amounts over any period therefore net to what the fund really paid and to the
settlements that stand.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from yibao.replica import rows

#: Bump when the DuckDB layout changes: a replica with another version is rebuilt.
#: 3: the persons-served rollup (`replica.persons`); 4: setl_fact.psn_key; 5: its psn_key;
#: 6: persons by keyed pseudonym `psn_ref` (`replica.pseudonym`), never `psn_no`;
#: 7: rule_hit (review hits, by psn_ref); 8: fee_fact (settled fee lines), psn_dim.death_date;
#: 9: mdtrt_fact.diag_codes, fee_fact's pric and hosp_appr_flag (post-hoc re-runs the line
#: rules: with forced_selfpay), setl_fact's dept_code, caty and dr_code (department and
#: doctor peers)
SCHEMA_VERSION = 9

#: the column carrying a person: a keyed pseudonym of `psn_no` (`replica.pseudonym`)
PSN_REF = "psn_ref"

AMOUNT_SQL_TYPE = "DECIMAL(16,2)"
#: rollup sums: 18 digits keep DuckDB on 64-bit integers (fast) and hold 10^16 yuan
SUM_SQL_TYPE = "DECIMAL(18,2)"


def fen_to_yuan(column: str) -> str:
    """SQL turning an integer-fen column into an exact DECIMAL(16,2) yuan value."""
    return (
        f"CAST(CAST({column} AS DECIMAL(18,0)) * CAST(0.01 AS DECIMAL(3,2)) AS {AMOUNT_SQL_TYPE})"
    )


#: med_type → visit kind: 住院 (2x, 52), 药店 (41), else 门诊
VISIT_KIND_SQL = (
    "CASE WHEN {m} LIKE '2%' OR {m} = '52' THEN 'inpatient' "
    "WHEN {m} = '41' THEN 'pharmacy' ELSE 'outpatient' END"
)
VISIT_KINDS = {"outpatient": "门诊", "inpatient": "住院", "pharmacy": "药店购药"}


def psn_key_sql(column: str) -> str:
    """The first 64 bits of the pseudonym `psn_ref` (hex) as an integer, NULL when it is not
    hex: the same person always gets the same key; two persons share one with probability
    ~n²/2⁶⁵ (10⁻⁸ for a city of a million persons), so a distinct count over it is exact in
    practice, and hashing integers is ~3× cheaper than hashing strings (docs/replica.md)."""
    return f"TRY_CAST('0x' || substr({column}, 1, 16) AS UBIGINT)"


@dataclass(frozen=True)
class Column:
    name: str
    #: DuckDB type of the replica column
    sql_type: str
    #: Arrow type of the batch column (what the payload carries)
    arrow_type: pa.DataType
    #: SQL producing the replica value from the batch column `b.<name>`
    expr: str | None = None

    def select_expr(self) -> str:
        return self.expr or f"b.{self.name}"


def _text(name: str) -> Column:
    return Column(name, "VARCHAR", pa.string())


def _ts(name: str) -> Column:
    return Column(name, "TIMESTAMP", pa.string(), f"CAST(b.{name} AS TIMESTAMP)")


def _amount(name: str) -> Column:
    return Column(name, AMOUNT_SQL_TYPE, pa.int64(), fen_to_yuan(f"b.{name}"))


#: quantities (cnt, prd_days) travel as integers in 1/10,000 (the row store's at-rest Qty)
QTY_SQL_TYPE = "DECIMAL(16,4)"


#: unit prices (N16,6) travel as integers in millionths (the row store's at-rest Price)
PRICE_SQL_TYPE = "DECIMAL(18,6)"


def price_from_scaled(column: str) -> str:
    """SQL turning a price in millionths into an exact DECIMAL(18,6)."""
    return (
        f"CAST(CAST({column} AS DECIMAL(18,0)) * CAST(0.000001 AS DECIMAL(7,6)) "
        f"AS {PRICE_SQL_TYPE})"
    )


def qty_from_scaled(column: str) -> str:
    """SQL turning a quantity in 1/10,000 units into an exact DECIMAL(16,4)."""
    return f"CAST(CAST({column} AS DECIMAL(18,0)) * CAST(0.0001 AS DECIMAL(5,4)) AS {QTY_SQL_TYPE})"


def _line(column: Column) -> Column:
    """A per-line column of an exploded entity: the batch carries a list (one value a line),
    the replica one row a line with the element's type (`Entity.lines`)."""
    return Column(column.name, column.sql_type, pa.list_(column.arrow_type), column.expr)


@dataclass(frozen=True)
class Entity:
    """One replica table fed by one change-log entity."""

    entity: str
    table: str
    key: str
    #: columns taken from the payload
    columns: tuple[Column, ...]
    #: derived columns: (name, sql type, expression over `b.*`)
    derived: tuple[tuple[str, str, str], ...] = ()
    #: a date column that is immutable per key: deletes by key prune on it (zone maps)
    prune_by: tuple[str, str] | None = None
    #: columns carried as lists, one element a row: a payload is one key (a settlement) and
    #: its rows (its fee lines) are the lists unnested in step (`insert_sql`)
    lines: tuple[str, ...] = ()

    @property
    def batch_columns(self) -> tuple[str, ...]:
        """Payload names of the columns: a batch carries `psn_no`, which the store turns into
        `psn_ref` on the way into the file (`ReplicaStore.apply`, `bulk_append`)."""
        return tuple("psn_no" if c.name == PSN_REF else c.name for c in self.columns)

    @property
    def batch_key(self) -> str:
        return "psn_no" if self.key == PSN_REF else self.key

    @property
    def arrow_schema(self) -> pa.Schema:
        """The Arrow shape of a change-log batch (payload names, `psn_no` included)."""
        fields = [pa.field("seq", pa.int64()), pa.field("op", pa.string())]
        fields += [
            pa.field(name, c.arrow_type)
            for name, c in zip(self.batch_columns, self.columns, strict=True)
        ]
        return pa.schema(fields)

    def ddl(self, table: str | None = None) -> str:
        cols = [f"{c.name} {c.sql_type}" for c in self.columns]
        cols += [f"{name} {sql_type}" for name, sql_type, _ in self.derived]
        cols.append("seq BIGINT NOT NULL")
        return (
            f"CREATE TABLE IF NOT EXISTS {table or self.table} (\n  " + ",\n  ".join(cols) + "\n)"
        )

    def insert_sql(self, source: str, table: str | None = None) -> str:
        names = [c.name for c in self.columns] + [d[0] for d in self.derived] + ["seq"]
        exprs = [c.select_expr() for c in self.columns] + [d[2] for d in self.derived]
        exprs.append("b.seq")
        if self.lines:
            # one row per list element: the lists of a payload unnest in step (DuckDB zips
            # several unnest() of one SELECT), the key's other columns repeat on every row
            plain = [c.name for c in self.columns if c.name not in self.lines]
            unnested = [f"unnest({n}) AS {n}" for n in self.lines]
            source = f"(SELECT {', '.join([*plain, *unnested, 'seq', 'op'])} FROM {source})"
        return (
            f"INSERT INTO {table or self.table} ({', '.join(names)}) "
            f"SELECT {', '.join(exprs)} FROM {source} b"
        )

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns] + [d[0] for d in self.derived]


SETL_ENTITY = Entity(
    entity=rows.SETL,
    table="setl_fact",
    key="setl_id",
    columns=(
        *(_text(PSN_REF if n == "psn_no" else n) for n in rows.SETL_TEXT),
        _text("admdvs"),
        _text("gend"),
        Column("age", "INTEGER", pa.int32()),
        Column("year", "INTEGER", pa.int32()),
        _ts("setl_time"),
        Column("setl_date", "DATE", pa.string(), "CAST(b.setl_date AS DATE)"),
        _ts("begndate"),
        _ts("enddate"),
        Column("ipt_days", "INTEGER", pa.int32()),
        Column("fee_line_cnt", "INTEGER", pa.int32()),
        *(_amount(n) for n in rows.SETL_AMOUNTS),
        # the visit's department (code and 科别) and doctor: department and doctor peers
        _text("dept_code"),
        _text("caty"),
        _text("dr_code"),
    ),
    derived=(
        ("visit_kind", "VARCHAR", VISIT_KIND_SQL.format(m="b.med_type")),
        ("sign", "TINYINT", "CASE WHEN b.refd_setl_flag = '1' THEN -1 ELSE 1 END"),
        # the pseudonym's first 64 bits as an integer: distinct counts hash integers, ~3×
        # cheaper than strings (docs/replica.md)
        ("psn_key", "UBIGINT", psn_key_sql("b.psn_ref")),
    ),
    prune_by=("setl_date", "CAST(b.setl_date AS DATE)"),
)

PSN_ENTITY = Entity(
    entity=rows.PSN,
    table="psn_dim",
    key=PSN_REF,
    columns=(
        _text(PSN_REF),
        _text("gend"),
        Column("birth_year", "INTEGER", pa.int32()),
        _text("insutype"),
        _text("psn_type"),
        _text("psn_insu_stas"),
        _text("insuplc_admdvs"),
        Column("assistance", "BOOLEAN", pa.bool_()),
        # the recorded date of death (enrolment's psn.death_date): post-hoc card_misuse
        # finds visits after it (docs/monitoring.md)
        Column("death_date", "DATE", pa.string(), "CAST(b.death_date AS DATE)"),
    ),
)

FIXMEDINS_ENTITY = Entity(
    entity=rows.FIXMEDINS,
    table="fixmedins_dim",
    key="fixmedins_code",
    columns=(
        _text("fixmedins_code"),
        _text("fixmedins_name"),
        _text("kind"),
        _text("hosp_lv"),
        _text("admdvs"),
        _text("parent_code"),
        _text("vali_flag"),
    ),
)

MDTRT_ENTITY = Entity(
    entity=rows.MDTRT,
    table="mdtrt_fact",
    key="mdtrt_id",
    columns=(
        _text("mdtrt_id"),
        _text(PSN_REF),
        _text("fixmedins_code"),
        _text("insutype"),
        _text("med_type"),
        _text("mdtrt_kind"),
        _ts("begntime"),
        _ts("endtime"),
        _text("maindiag_code"),
        # every valid diagnosis, comma-separated (mdtrt.diag_codes)
        _text("diag_codes"),
        _text("mdtrt_stas"),
        _text("vali_flag"),
    ),
    derived=(("begn_date", "DATE", "CAST(CAST(b.begntime AS TIMESTAMP) AS DATE)"),),
    prune_by=("begn_date", "CAST(CAST(b.begntime AS TIMESTAMP) AS DATE)"),
)

RULE_HIT_ENTITY = Entity(
    entity=rows.RULE_HIT,
    table="rule_hit",
    key="hit_id",
    columns=(
        *(
            _text(n)
            for n in (
                "hit_id",
                "rule_id",
                "rule_version",
                "category",
                "stage",
                "result_type",
                "action",
                "infno",
                "fixmedins_code",
                "mdtrt_id",
                "setl_id",
            )
        ),
        _text(PSN_REF),
        _amount("amount"),
        _ts("detected_at"),
    ),
)

#: the per-line columns of `fee_fact` (`replica.rows.FEE_LINE_FIELDS`)
_FEE_LINES = (
    _text("feedetl_sn"),
    _ts("fee_ocur_time"),
    _text("hilist_code"),
    _text("list_type"),
    _text("med_chrgitm_type"),
    Column("cnt", QTY_SQL_TYPE, pa.int64(), qty_from_scaled("b.cnt")),
    _amount("det_item_fee_sumamt"),
    Column("prd_days", QTY_SQL_TYPE, pa.int64(), qty_from_scaled("b.prd_days")),
    Column("pric", PRICE_SQL_TYPE, pa.int64(), price_from_scaled("b.pric")),
    _text("hosp_appr_flag"),
    _text("forced_selfpay"),
)

FEE_ENTITY = Entity(
    entity=rows.FEE,
    table="fee_fact",
    key="setl_id",
    columns=(
        _text("setl_id"),
        _text("mdtrt_id"),
        _text(PSN_REF),
        _text("fixmedins_code"),
        _text("med_type"),
        Column("setl_date", "DATE", pa.string(), "CAST(b.setl_date AS DATE)"),
        _text("dept_code"),
        _text("caty"),
        _text("dr_code"),
        *(_line(c) for c in _FEE_LINES),
    ),
    derived=(
        ("visit_kind", "VARCHAR", VISIT_KIND_SQL.format(m="b.med_type")),
        ("fee_date", "DATE", "CAST(CAST(b.fee_ocur_time AS TIMESTAMP) AS DATE)"),
    ),
    prune_by=("setl_date", "CAST(b.setl_date AS DATE)"),
    lines=tuple(c.name for c in _FEE_LINES),
)

#: in the order a batch applies them (dimensions first)
ENTITIES: tuple[Entity, ...] = (
    FIXMEDINS_ENTITY,
    PSN_ENTITY,
    MDTRT_ENTITY,
    SETL_ENTITY,
    FEE_ENTITY,
    RULE_HIT_ENTITY,
)
BY_ENTITY = {e.entity: e for e in ENTITIES}

# ---------------------------------------------------------------------------------------------
# Rollups
# ---------------------------------------------------------------------------------------------

#: measures every rollup carries: (name, sql type, expression summed over setl_fact rows)
MEASURES: tuple[tuple[str, str, str], ...] = (
    ("setl_cnt", "BIGINT", "sign"),
    ("otp_cnt", "BIGINT", "CASE WHEN visit_kind = 'outpatient' THEN sign ELSE 0 END"),
    ("ipt_cnt", "BIGINT", "CASE WHEN visit_kind = 'inpatient' THEN sign ELSE 0 END"),
    (
        "ipt_days",
        "BIGINT",
        "CASE WHEN visit_kind = 'inpatient' THEN sign * COALESCE(ipt_days, 0) ELSE 0 END",
    ),
    ("fee_line_cnt", "BIGINT", "sign * fee_line_cnt"),
    *((name, SUM_SQL_TYPE, name) for name in rows.SETL_AMOUNTS),
)
MEASURE_NAMES = tuple(m[0] for m in MEASURES)


@dataclass(frozen=True)
class Rollup:
    table: str
    #: grouping columns of setl_fact (NULLs kept as '' so that keys compare)
    keys: tuple[str, ...]
    title: str

    def ddl(self, table: str | None = None) -> str:
        cols = ["setl_date DATE NOT NULL"]
        cols += [f"{k} VARCHAR NOT NULL" for k in self.keys]
        cols += [f"{name} {sql_type} NOT NULL" for name, sql_type, _ in MEASURES]
        return (
            f"CREATE TABLE IF NOT EXISTS {table or self.table} (\n  " + ",\n  ".join(cols) + "\n)"
        )

    def refresh_sql(self, where: str, table: str | None = None, fact: str = "setl_fact") -> str:
        keys = ", ".join(f"COALESCE({k}, '')" for k in self.keys)
        measures = ", ".join(f"SUM({expr})" for _, _, expr in MEASURES)
        group = ", ".join(str(i + 1) for i in range(len(self.keys) + 1))
        return (
            f"INSERT INTO {table or self.table} SELECT setl_date, {keys}, {measures} "
            f"FROM {fact} WHERE {where} GROUP BY {group} ORDER BY 1"
        )


ROLLUPS: tuple[Rollup, ...] = (
    Rollup(
        "agg_day",
        ("admdvs", "hosp_lv", "insutype", "med_type", "psn_type", "visit_kind"),
        "按日 × 区划 × 机构等级 × 险种 × 医疗类别 × 人员类别",
    ),
    Rollup(
        "agg_day_inst",
        ("fixmedins_code", "admdvs", "hosp_lv", "insutype", "visit_kind"),
        "按日 × 定点机构 × 险种 × 就诊类型",
    ),
    Rollup(
        "agg_day_diag",
        ("maindiag_code", "insutype", "visit_kind"),
        "按日 × 主诊断 × 险种 × 就诊类型",
    ),
)

META_DDL = """CREATE TABLE IF NOT EXISTS replica_meta (
  id INTEGER NOT NULL,
  schema_version INTEGER NOT NULL,
  applied_seq BIGINT NOT NULL,
  applied_ts_ms BIGINT NOT NULL,
  applied_at_ms BIGINT NOT NULL,
  source VARCHAR NOT NULL
)"""

REPLICA_TABLES: tuple[str, ...] = (
    *(e.table for e in ENTITIES),
    *(r.table for r in ROLLUPS),
    "agg_year_psn",  # replica.persons.TABLE
    "replica_meta",
)
