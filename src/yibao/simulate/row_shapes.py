"""The bulk load's row shapes: what a worker's row tuples hold and how the writer completes
them.

- Rows are tuples of at-rest values (fen and scaled integers, ISO text) in table column
  order, built by `converter` from the dicts `yibao.settlement.records` builds (what live
  settlement writes), or, for fee lines, from the visit's values and the memoised at-rest
  values of the line's `records.line_values` (`FEE_DETAIL_COLUMNS`).
- Columns every bulk row holds the same value in (`CONSTANT_COLUMNS`) are left out of the
  tuples; the writer's statements hold them as literals (`yibao.simulate.spool`).
- Replica payloads are tuples in the replica's column order, read off the at-rest rows by
  `payload_builder` — the values `yibao.replica.rows` would build (tests compare the two).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy import Date, DateTime, Table

from yibao.replica.schema import BY_ENTITY
from yibao.storage.tables import fee_detail
from yibao.storage.types import Scaled

#: Columns every bulk row of a table holds the same value in (raw values, as the row dicts
#: hold them; `now` stands for the load's timestamp). Rows leave the workers without them
#: and the writer puts them in its INSERT as literals: binding a parameter is most of what an
#: insert costs from Python, and a fee line has 41 of them.
CONSTANT_COLUMNS: dict[str, dict[str, Any]] = {
    "fee_detail": {
        "chrg_bchno": "1", "init_feedetl_sn": None, "rxno": None, "drord_no": None,
        "rx_circ_flag": "0", "sin_dos_dscr": None,
        "medc_way_dscr": None, "vali_flag": "1", "msgid": None, "created_at": "now",
        "cancelled_at": None,
    },
    "mdtrt": {
        "mdtrt_cert_type": "02", "mdtrt_cert_no": None, "adm_bed": None,
        "main_cond_dscr": None, "dise_codg": None, "dise_name": None, "vali_flag": "1",
        "msgid": None, "extra": None, "created_at": "now", "updated_at": "now",
    },
    "setl": {
        "clr_way": "1", "mdtrt_cert_type": "02", "chrg_bchno": "1", "dise_codg": None,
        "dise_name": None, "invono": None, "opter_id": None, "opter_name": None,
        "created_at": "now", "updated_at": "now",
    },
}  # fmt: skip
#: the fee_detail columns a worker's fee row holds, in the order `Settler._rows` builds it
#: (checked against the table when the module loads: a new column goes here or above)
FEE_DETAIL_COLUMNS = (
    "mdtrt_id", "feedetl_sn", "psn_no", "fixmedins_code", "fee_ocur_time", "med_list_codg",
    "medins_list_codg", "hilist_name", "list_type", "det_item_fee_sumamt", "cnt", "pric",
    "pric_uplmt_amt", "selfpay_prop", "fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt",
    "inscp_scp_amt", "chrgitm_lv", "med_chrgitm_type", "flags", "hosp_appr_flag", "bilg_dept_codg",
    "bilg_dept_name", "bilg_dr_codg", "bilg_dr_name", "used_frqu_dscr", "prd_days", "memo",
    "setl_id",
)  # fmt: skip
if (
    tuple(c.name for c in fee_detail.columns if c.name not in CONSTANT_COLUMNS["fee_detail"])
    != FEE_DETAIL_COLUMNS
):  # pragma: no cover
    raise RuntimeError("fee_detail columns changed: update row_shapes.FEE_DETAIL_COLUMNS")

#: A spooled fee line is compact: what differs from line to line of a visit, the rest named.
#: The columns that follow from the line's split alone (`settle_rows._LineMemo`) go once per
#: distinct line and chunk into the spool's `fee_shape` table, numbered; those the visit
#: gives every line come from the spool's `mdtrt` row. The writer's `INSERT … SELECT` joins
#: the three (`yibao.simulate.spool`): a line binds 5 values instead of 29, and binding is
#: most of what a worker's spool step costs.
FEE_SHAPE_COLUMNS = FEE_DETAIL_COLUMNS[5:22] + FEE_DETAIL_COLUMNS[26:29]
#: fee_detail column ← the spool's mdtrt column holding the visit's value
FEE_VISIT_COLUMNS = {
    "mdtrt_id": "mdtrt_id", "psn_no": "psn_no", "fixmedins_code": "fixmedins_code",
    "bilg_dept_codg": "dept_code", "bilg_dept_name": "dept_name", "bilg_dr_codg": "atddr_no",
    "bilg_dr_name": "dr_name",
}  # fmt: skip
#: a compact fee line: the visit's row number in the spool's mdtrt table, the line's own
#: values, its shape number
FEE_LINE_COLUMNS = ("visit_row", "feedetl_sn", "fee_ocur_time", "shape_no", "setl_id")
_OWN = ("feedetl_sn", "fee_ocur_time", "setl_id")
if sorted((*FEE_SHAPE_COLUMNS, *FEE_VISIT_COLUMNS, *_OWN)) != sorted(FEE_DETAIL_COLUMNS) or any(
    c not in FEE_LINE_COLUMNS for c in _OWN
):  # pragma: no cover
    raise RuntimeError("fee_detail columns changed: update row_shapes.FEE_SHAPE_COLUMNS")


def constants_for(table: Table, now: datetime) -> dict[str, Any]:
    """The table's constant columns with their raw values (`now` filled in)."""
    return {
        name: (now if value == "now" else value)
        for name, value in CONSTANT_COLUMNS.get(table.name, {}).items()
    }


def row_columns(table: Table) -> tuple[str, ...]:
    """The columns a bulk row tuple of `table` holds, in table order."""
    skip = CONSTANT_COLUMNS.get(table.name, {})
    return tuple(c.name for c in table.columns if c.name not in skip)


def at_rest(table: Table, name: str, value: Any) -> Any:
    """A raw value as the row store keeps it (what `converter` does to one column)."""
    t = table.c[name].type
    if value is None:
        return None
    if isinstance(t, Scaled):
        return int(value * Decimal(10) ** t.scale)
    if isinstance(t, DateTime):
        return iso_dt(value)
    if isinstance(t, Date):
        return iso_d(value)
    return value


_E2 = Decimal(100)


def payload_schema(entity: str) -> pa.Schema:
    schema = BY_ENTITY[entity].arrow_schema
    return pa.schema([f for f in schema if f.name not in ("seq", "op")])


def scaled2(v: Decimal | None) -> int | None:
    """A Scaled(2) column's at-rest integer (as `storage.types.Scaled` stores it)."""
    return None if v is None else int(v * _E2)


def iso_dt(v: datetime | None) -> str | None:
    return None if v is None else v.isoformat(" ", "microseconds")


def ipt_days(row: Mapping[str, Any]) -> int | None:
    """住院天数 as `yibao.replica.rows.setl_payload` counts it (same-day stays count one)."""
    begn, end = row.get("begndate"), row.get("enddate")
    return stay_days(begn, end) if begn and end else None


def stay_days(begn: datetime, end: datetime) -> int:
    """`ipt_days` of a stay from `begn` to `end`."""
    return max(1, (end.date() - begn.date()).days)


def iso_d(v: date | None) -> str | None:
    return None if v is None else v.isoformat()


def converter(
    table: Table, constants: Mapping[str, Any] | None = None, *, complete: bool = False
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """dict row → tuple of at-rest values in the table's column order (a generated function:
    one expression per column, no per-column loop). With `constants`, those columns are left
    out of the tuple, and a row holding another value in one of them is refused (ValueError)
    rather than written with the constant. A missing key is NULL; with `complete` every
    column must be in the row (as in those `yibao.settlement.records` builds) and is read by
    subscript, cheaper than a `get` call."""
    constants = constants or {}
    parts = []
    env: dict[str, Any] = {"K": tuple(constants.values())}

    def read(name: str) -> str:
        return f"r[{name!r}]" if complete else f"r.get({name!r})"

    for col in table.columns:
        if col.name not in constants:  # one lookup per column
            parts.append(_at_rest_expr(col.type, read(col.name), env))
    source = f"lambda r: ({', '.join(parts)},)"
    if constants:

        def differs(r: Mapping[str, Any]) -> tuple[Any, ...]:
            bad = [n for n, v in constants.items() if r.get(n) != v]
            raise ValueError(f"{table.name}: columns {bad} differ from the bulk constants")

        env["_differs"] = differs
        held = ", ".join(read(n) for n in constants)
        source = f"lambda r: ({', '.join(parts)},) if ({held},) == K else _differs(r)"
    fn: Callable[[Mapping[str, Any]], tuple[Any, ...]] = eval(source, env)
    return fn


def picker(table: Table, names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """dict row → the at-rest values of the columns `names` of `table`, in that order (a
    generated function, as `converter`; every name must be in the row)."""
    env: dict[str, Any] = {}
    parts = [_at_rest_expr(table.c[name].type, f"r[{name!r}]", env) for name in names]
    fn: Callable[[Mapping[str, Any]], tuple[Any, ...]] = eval(
        f"lambda r: ({', '.join(parts)},)", env
    )
    return fn


def _at_rest_expr(t: Any, value: str, env: dict[str, Any]) -> str:
    """The expression turning `value` (a raw value) into its at-rest form for column type t."""
    if isinstance(t, Scaled):
        # a zero (most of a bill's fund columns) skips the multiply
        env[f"F{t.scale}"] = Decimal(10) ** t.scale
        return f"(None if (v := {value}) is None else int(v * F{t.scale}) if v else 0)"
    if isinstance(t, DateTime):
        return f"(None if (v := {value}) is None else v.isoformat(' ', 'microseconds'))"
    if isinstance(t, Date):
        return f"(None if (v := {value}) is None else v.isoformat())"
    return value


def payload_builder(
    entity: str, table: Table, constants: Mapping[str, Any]
) -> Callable[..., tuple[Any, ...]]:
    """At-rest row tuple of `table` → the replica payload of `entity` as a tuple in the
    replica's column order (`payload_schema`): the values `yibao.replica.rows` would put in
    its payload dict, read from the row just built instead of converted again. Datetimes at
    rest are ISO text, so the payload's `yyyy-MM-dd HH:mm:ss` is their first 19 characters
    and a date the first 10; Money at rest is integer fen already. Columns the table lacks
    come in as keyword arguments (`admdvs`, `gend`, `ipt_days`), its constant columns
    (`constants`, raw values) as constants. Generated once per entity: one expression per
    column."""
    index = {name: i for i, name in enumerate(row_columns(table))}
    dated = {"setl_time", "begndate", "enddate", "begntime", "endtime"}
    extra: list[str] = []
    parts = []
    env: dict[str, Any] = {}
    for f in payload_schema(entity):
        name = f.name
        if name in constants:
            value = at_rest(table, name, constants[name])
            env[f"C_{name}"] = value[:19] if name in dated and value is not None else value
            parts.append(f"C_{name}")
        elif name == "setl_date":
            parts.append(f"t[{index['setl_time']}][:10]")
        elif name in index and name in dated:
            parts.append(f"(None if t[{index[name]}] is None else t[{index[name]}][:19])")
        elif name in index:
            parts.append(f"t[{index[name]}]")
        else:
            extra.append(name)
            parts.append(name)
    args = "".join(f", {n}" for n in extra)
    fn: Callable[..., tuple[Any, ...]] = eval(f"lambda t{args}: ({', '.join(parts)},)", env)
    return fn
