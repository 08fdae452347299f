"""The replica's tables in DuckDB, the Arrow shapes of change-log batches, and the rollups.

Facts and dimensions mirror the payload contract (`replica.rows`): one column per payload
field, amounts converted from integer fen to DECIMAL(16,2) **exactly** in Arrow before they
reach DuckDB (`Entity.images`: the integer becomes the decimal's unscaled value — fen are
hundredths of a yuan — never a float). DuckDB then appends rows already in its column types:
no expression to bind and plan per batch, which for a wide table costs more than the append.
Only the columns named here reach the replica, so a personal identifier slipped into a payload by mistake
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

import functools
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

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


def scaled_decimal(values: pa.Array | pa.ChunkedArray, precision: int, scale: int) -> pa.Array:
    """Integers counted in units of 10^-scale (fen for yuan, ten-thousandths of a quantity,
    millionths of a price) as DECIMAL(precision, scale), exactly: each integer is the decimal's
    unscaled value. Refuses a value the type cannot hold (as DuckDB's cast would)."""
    ints = pc.cast(values, pa.int64())
    if isinstance(ints, pa.ChunkedArray):
        ints = ints.combine_chunks()
    limit = 10**precision
    top = pc.max(pc.abs_checked(ints)).as_py()
    if top is not None and top >= limit:
        raise ValueError(f"{top} does not fit DECIMAL({precision},{scale})")
    wide = pc.cast(ints, pa.decimal128(19, 0))  # every int64, scale 0: the same unscaled value
    return pa.Array.from_buffers(
        pa.decimal128(precision, scale), len(wide), wide.buffers(), wide.null_count
    )


def _timestamps(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Payload datetimes (`yyyy-MM-dd HH:mm:ss`, ISO 8601) as TIMESTAMP (microseconds)."""
    return pc.cast(values, pa.timestamp("us"))


def _dates(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Payload dates (`yyyy-MM-dd`), or TIMESTAMP values, as DATE."""
    return pc.cast(values, pa.date32())


def psn_key_sql(column: str) -> str:
    """The first 64 bits of the pseudonym `psn_ref` (hex) as an integer, NULL when it is not
    hex: the same person always gets the same key; two persons share one with probability
    ~n²/2⁶⁵ (10⁻⁸ for a city of a million persons), so a distinct count over it is exact in
    practice, and hashing integers is ~3× cheaper than hashing strings (docs/replica.md)."""
    return f"TRY_CAST('0x' || substr({column}, 1, 16) AS UBIGINT)"


_HEX = frozenset(string.hexdigits)


@functools.cache
def constant(value: str | int | bool, type_: pa.DataType) -> pa.Scalar:
    """A typed Arrow scalar for a constant the conversions compare with or fill in: given a
    Python value instead, pyarrow infers its type on every call (and tries optional imports
    while at it), which costs more than the comparison itself."""
    return pa.scalar(value, type_)


def _text_is(values: pa.Array | pa.ChunkedArray, value: str) -> pa.Array | pa.ChunkedArray:
    """`values = value`, NULL taken as false."""
    return pc.fill_null(pc.equal(values, constant(value, pa.string())), constant(False, pa.bool_()))


def psn_keys(refs: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`psn_key_sql` in Python, for the rows a batch appends: the same integers."""
    out: list[int | None] = []
    for ref in refs.to_pylist():
        head = None if ref is None else ref[:16]
        out.append(int(head, 16) if head and _HEX.issuperset(head) else None)
    return pa.array(out, pa.uint64())


#: the visit kinds (`visit_kinds`) as the dashboard names them
VISIT_KINDS = {"outpatient": "门诊", "inpatient": "住院", "pharmacy": "药店购药"}


def visit_kinds(med_type: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """med_type → visit kind: 住院 (2x, 52), 药店 (41), else (no med_type too) 门诊."""
    inpatient = pc.or_(
        pc.fill_null(pc.starts_with(med_type, "2"), constant(False, pa.bool_())),
        _text_is(med_type, "52"),
    )
    text = pa.string()
    return pc.if_else(
        inpatient,
        constant("inpatient", text),
        pc.if_else(
            _text_is(med_type, "41"), constant("pharmacy", text), constant("outpatient", text)
        ),
    )


def signs(refd_setl_flag: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """+1 for a settlement record, −1 for a reversal record (`refd_setl_flag` "1")."""
    tiny = pa.int8()
    return pc.if_else(_text_is(refd_setl_flag, "1"), constant(-1, tiny), constant(1, tiny))


#: turns a batch column into the replica column's values (None: taken as it is)
Convert = Callable[[pa.Array | pa.ChunkedArray], pa.Array | pa.ChunkedArray]


@dataclass(frozen=True)
class Column:
    name: str
    #: DuckDB type of the replica column
    sql_type: str
    #: Arrow type of the batch column (what the payload carries)
    arrow_type: pa.DataType
    #: the batch column → the replica column's values (already of `sql_type`)
    convert: Convert | None = None


def _text(name: str) -> Column:
    return Column(name, "VARCHAR", pa.string())


def _ts(name: str) -> Column:
    return Column(name, "TIMESTAMP", pa.string(), _timestamps)


def _date(name: str) -> Column:
    return Column(name, "DATE", pa.string(), _dates)


def _amount(name: str) -> Column:
    return Column(name, AMOUNT_SQL_TYPE, pa.int64(), lambda v: scaled_decimal(v, 16, 2))


#: quantities (cnt, prd_days) travel as integers in 1/10,000 (the row store's at-rest Qty)
QTY_SQL_TYPE = "DECIMAL(16,4)"


#: unit prices (N16,6) travel as integers in millionths (the row store's at-rest Price)
PRICE_SQL_TYPE = "DECIMAL(18,6)"


def _line(column: Column) -> Column:
    """A per-line column of an exploded entity: the batch carries a list (one value a line),
    the replica one row a line with the element's type (`Entity.lines`)."""
    return Column(column.name, column.sql_type, pa.list_(column.arrow_type), column.convert)


_PLAIN_TYPES = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "TINYINT": pa.int8(),
    "UBIGINT": pa.uint64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),(\d+)\)$")


def arrow_type_of(sql_type: str) -> pa.DataType:
    """The Arrow type DuckDB reads into a column of `sql_type` unchanged."""
    found = _DECIMAL.match(sql_type)
    if found:
        return pa.decimal128(int(found.group(1)), int(found.group(2)))
    return _PLAIN_TYPES[sql_type]


def _single(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _unnest(batch: pa.Table, lines: tuple[str, ...]) -> pa.Table:
    """One row per element of the `lines` lists, zipped as DuckDB's `unnest` zips several
    lists of one row: as many rows as the longest list, a shorter or missing (NULL) list read
    as NULLs; the row's other columns repeated on each."""
    lists = {name: _single(batch.column(name)) for name in lines}
    none = constant(0, pa.int32())
    lengths = [pc.fill_null(pc.list_value_length(v), none) for v in lists.values()]
    longest = lengths[0]
    for other in lengths[1:]:
        longest = pc.max_element_wise(longest, other)
    # (`all` of no rows is NULL: nothing to pad then either)
    if all(pc.all(pc.equal(n, longest)).as_py() is not False for n in lengths):
        parents = pc.list_parent_indices(lists[lines[0]])
        flat = {name: pc.list_flatten(v) for name, v in lists.items()}
    else:  # lists of unequal length (a bulk payload without some line columns): pad them
        counts = longest.to_pylist()
        parents = pa.array([i for i, n in enumerate(counts) for _ in range(n)], pa.int64())
        flat = {}
        for name, values in lists.items():
            padded: list[object] = []
            for items, n in zip(values.to_pylist(), counts, strict=True):
                items = items or []
                padded.extend(items + [None] * (n - len(items)))
            flat[name] = pa.array(padded, values.type.value_type)
    columns = {
        name: flat[name] if name in flat else _single(batch.column(name)).take(parents)
        for name in batch.column_names
    }
    return pa.table(columns)


#: a derived column's values from the batch's columns already converted (`Entity.images`)
Derive = Callable[[dict[str, pa.Array | pa.ChunkedArray]], pa.Array | pa.ChunkedArray]


@dataclass(frozen=True)
class Entity:
    """One replica table fed by one change-log entity."""

    entity: str
    table: str
    key: str
    #: columns taken from the payload
    columns: tuple[Column, ...]
    #: derived columns: (name, sql type, their values from the converted columns)
    derived: tuple[tuple[str, str, Derive], ...] = ()
    #: a date column that is immutable per key: deletes by key prune on it (zone maps)
    prune_by: str | None = None
    #: columns carried as lists, one element a row: a payload is one key (a settlement) and
    #: its rows (its fee lines) are the lists unnested in step (`images`)
    lines: tuple[str, ...] = ()

    # computed once per entity (the entities are module constants); `_coerce` asks for the
    # columns once per change of a batch
    @functools.cached_property
    def batch_columns(self) -> tuple[str, ...]:
        """Payload names of the columns: a batch carries `psn_no`, which the store turns into
        `psn_ref` on the way into the file (`ReplicaStore.apply`, `bulk_append`)."""
        return tuple("psn_no" if c.name == PSN_REF else c.name for c in self.columns)

    @functools.cached_property
    def batch_key(self) -> str:
        return "psn_no" if self.key == PSN_REF else self.key

    @functools.cached_property
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

    def images(self, batch: pa.Table) -> pa.Table:
        """The rows a batch (`arrow_schema`, `psn_ref` for `psn_no`) appends to the replica
        table: its images that are not deletes, every column converted to the table's type and
        in its order (`column_names`, then `seq`). An entity with `lines` gives one row per
        element of its lists, the key's other columns repeated on each."""
        kept = batch.filter(pc.not_equal(batch.column("op"), constant("delete", pa.string())))
        if self.lines:
            kept = _unnest(kept, self.lines)
        values: dict[str, pa.Array | pa.ChunkedArray] = {}
        for column in self.columns:
            raw = kept.column(column.name)
            values[column.name] = raw if column.convert is None else column.convert(raw)
        for name, _sql_type, derive in self.derived:
            values[name] = derive(values)
        values["seq"] = kept.column("seq")
        return pa.table(values, schema=self.replica_schema)

    @functools.cached_property
    def replica_schema(self) -> pa.Schema:
        """The Arrow types of the replica table's columns (what `images` gives)."""
        fields = [pa.field(c.name, arrow_type_of(c.sql_type)) for c in self.columns]
        fields += [pa.field(name, arrow_type_of(t)) for name, t, _ in self.derived]
        fields.append(pa.field("seq", pa.int64()))
        return pa.schema(fields)

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
        _date("setl_date"),
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
        ("visit_kind", "VARCHAR", lambda v: visit_kinds(v["med_type"])),
        ("sign", "TINYINT", lambda v: signs(v["refd_setl_flag"])),
        # the pseudonym's first 64 bits as an integer: distinct counts hash integers, ~3×
        # cheaper than strings (docs/replica.md)
        ("psn_key", "UBIGINT", lambda v: psn_keys(v[PSN_REF])),
    ),
    prune_by="setl_date",
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
        _date("death_date"),
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
    derived=(("begn_date", "DATE", lambda v: _dates(v["begntime"])),),
    prune_by="begn_date",
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
    Column("cnt", QTY_SQL_TYPE, pa.int64(), lambda v: scaled_decimal(v, 16, 4)),
    _amount("det_item_fee_sumamt"),
    Column("prd_days", QTY_SQL_TYPE, pa.int64(), lambda v: scaled_decimal(v, 16, 4)),
    Column("pric", PRICE_SQL_TYPE, pa.int64(), lambda v: scaled_decimal(v, 18, 6)),
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
        _date("setl_date"),
        _text("dept_code"),
        _text("caty"),
        _text("dr_code"),
        *(_line(c) for c in _FEE_LINES),
    ),
    derived=(
        ("visit_kind", "VARCHAR", lambda v: visit_kinds(v["med_type"])),
        ("fee_date", "DATE", lambda v: _dates(v["fee_ocur_time"])),
    ),
    prune_by="setl_date",
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


def measures_of(facts: pa.Table) -> dict[str, pa.Array | pa.ChunkedArray]:
    """MEASURES' expressions over `setl_fact` rows in Arrow (for the rows a batch appends,
    `Entity.images`): the same values as the SQL, held equal by a test."""
    big = pa.int64()
    sign = pc.cast(facts.column("sign"), big)
    zero = constant(0, big)
    inpatient = _text_is(facts.column("visit_kind"), "inpatient")
    outpatient = _text_is(facts.column("visit_kind"), "outpatient")
    days = pc.fill_null(pc.cast(facts.column("ipt_days"), big), zero)
    values: dict[str, pa.Array | pa.ChunkedArray] = {
        "setl_cnt": sign,
        "otp_cnt": pc.if_else(outpatient, sign, zero),
        "ipt_cnt": pc.if_else(inpatient, sign, zero),
        "ipt_days": pc.if_else(inpatient, pc.multiply(sign, days), zero),
        "fee_line_cnt": pc.multiply(sign, pc.cast(facts.column("fee_line_cnt"), big)),
    }
    for name in rows.SETL_AMOUNTS:
        values[name] = facts.column(name)
    return values


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

    @functools.cached_property
    def arrow_schema(self) -> pa.Schema:
        """The Arrow types of the rollup's columns."""
        fields = [pa.field("setl_date", pa.date32())]
        fields += [pa.field(k, pa.string()) for k in self.keys]
        fields += [pa.field(name, arrow_type_of(t)) for name, t, _ in MEASURES]
        return pa.schema(fields)

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
