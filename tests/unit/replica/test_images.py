"""A batch's rows reach DuckDB already typed (`Entity.images`, worked out in Arrow): they must
be exactly what DuckDB's own casts of the payload give — amounts from integer fen, dates and
datetimes from text, the derived visit kind, sign and person key — and the rollups' measures
worked out in Arrow must equal MEASURES' SQL over the same rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
from replica_changes import change, entity_table

from yibao.replica import rows
from yibao.replica import store as store_mod
from yibao.replica.schema import BY_ENTITY, SETL_ENTITY, scaled_decimal

AT = datetime(2024, 6, 3, 9, 30, 15)


def _insert(seq: int, entity: str, key: str, payload: dict) -> dict:
    """A key's first image (`insert`)."""
    return change(seq, entity, key, payload, "insert")


def _setl(setl_id: str, med_type: str | None, refd: str, medfee: str, **extra: object) -> dict:
    row = {name: Decimal("0.00") for name in rows.SETL_AMOUNTS}
    row.update(
        setl_id=setl_id,
        mdtrt_id="M" + setl_id,
        psn_no="P" + setl_id,
        fixmedins_code="H1",
        insutype="310",
        med_type=med_type,
        refd_setl_flag=refd,
        vali_flag="1",
        setl_time=AT,
        medfee_sumamt=Decimal(medfee),
        hifp_pay=Decimal(medfee),
        fee_line_cnt=3,
        **extra,
    )
    payload = rows.setl_payload(row, admdvs="110101", gend="1")
    return payload


def _sql_setl(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The replica's settlement rows as DuckDB's casts make them from the payload columns."""
    amounts = ", ".join(
        f"CAST(CAST({n} AS DECIMAL(18,0)) * CAST(0.01 AS DECIMAL(3,2)) AS DECIMAL(16,2))"
        for n in rows.SETL_AMOUNTS
    )
    plain = [c.name for c in SETL_ENTITY.columns]
    exprs = []
    for name in plain:
        if name in rows.SETL_AMOUNTS:
            continue
        if name in ("setl_time", "begndate", "enddate"):
            exprs.append(f"CAST({name} AS TIMESTAMP)")
        elif name == "setl_date":
            exprs.append("CAST(setl_date AS DATE)")
        else:
            exprs.append(name)
    kept = [n for n in plain if n not in rows.SETL_AMOUNTS]
    sql = (
        f"SELECT {', '.join(f'{e} AS {n}' for e, n in zip(exprs, kept, strict=True))}, {amounts}, "
        "CASE WHEN med_type LIKE '2%' OR med_type = '52' THEN 'inpatient' "
        "WHEN med_type = '41' THEN 'pharmacy' ELSE 'outpatient' END, "
        "CASE WHEN refd_setl_flag = '1' THEN -1 ELSE 1 END::TINYINT, "
        "TRY_CAST('0x' || substr(psn_ref, 1, 16) AS UBIGINT), seq FROM batch ORDER BY seq"
    )
    return con.execute(sql).fetchall()


def _reordered(row: tuple, names: list[str], order: list[str]) -> tuple:
    by_name = dict(zip(names, row, strict=True))
    return tuple(by_name[n] for n in order)


def test_settlement_images_equal_duckdbs_casts() -> None:
    payloads = [
        _setl("S1", "11", "0", "12.34"),
        _setl("S2", "21", "0", "99999999999999.99"),  # the largest DECIMAL(16,2)
        _setl("S3", "52", "1", "-5.05"),
        _setl("S4", "41", "0", "0.01"),
        _setl("S5", None, "0", "1.00"),
    ]
    table = entity_table(
        [_insert(i + 1, rows.SETL, p["setl_id"], p) for i, p in enumerate(payloads)], rows.SETL
    )
    images = SETL_ENTITY.images(table)
    assert images.schema == SETL_ENTITY.replica_schema
    con = duckdb.connect(":memory:")
    con.register("batch", table)
    want = _sql_setl(con)
    plain = [c.name for c in SETL_ENTITY.columns]
    sql_names = [n for n in plain if n not in rows.SETL_AMOUNTS]
    sql_names += [*rows.SETL_AMOUNTS, "visit_kind", "sign", "psn_key", "seq"]
    order = images.column_names
    got = [tuple(r.values()) for r in images.to_pylist()]
    assert got == [_reordered(r, sql_names, order) for r in want]
    assert [r["visit_kind"] for r in images.to_pylist()] == [
        "outpatient",
        "inpatient",
        "inpatient",
        "pharmacy",
        "outpatient",
    ]


def test_fee_line_images_unnest_in_step_and_convert_exactly() -> None:
    visit = {"mdtrt_id": "M1", "fixmedins_code": "H1", "dept_code": "D1", "atddr_no": "DR1"}
    lines = [
        {
            "feedetl_sn": str(n),
            "fee_ocur_time": AT,
            "med_list_codg": f"X{n}",
            "list_type": "101",
            "cnt": Decimal(cnt),
            "det_item_fee_sumamt": Decimal(fee),
            "pric": Decimal(price),
            "prd_days": None,
        }
        for n, cnt, fee, price in (
            (1, "2.5", "12.34", "4.936000"),
            (2, "0.0001", "0.01", "123.456789"),
        )
    ]
    two = rows.fee_payload(
        setl_id="S1", setl_time=AT, psn_no="P1", visit=visit, med_type="11", lines=lines
    )
    none = rows.fee_payload(
        setl_id="S2", setl_time=AT, psn_no="P2", visit=visit, med_type="41", lines=[]
    )
    table = entity_table(
        [_insert(1, rows.FEE, "S1", two), _insert(2, rows.FEE, "S2", none)], rows.FEE
    )
    images = BY_ENTITY[rows.FEE].images(table).to_pylist()
    assert [(r["setl_id"], r["feedetl_sn"], r["hilist_code"]) for r in images] == [
        ("S1", "1", "X1"),
        ("S1", "2", "X2"),
    ]
    assert [(r["cnt"], r["det_item_fee_sumamt"], r["pric"], r["prd_days"]) for r in images] == [
        (Decimal("2.5000"), Decimal("12.34"), Decimal("4.936000"), None),
        (Decimal("0.0001"), Decimal("0.01"), Decimal("123.456789"), None),
    ]
    assert {(r["fee_date"], r["visit_kind"], r["fee_ocur_time"]) for r in images} == {
        (AT.date(), "outpatient", AT)
    }


def test_a_value_too_wide_for_its_decimal_is_refused() -> None:
    assert scaled_decimal(pa.array([-1, None, 99]), 2, 2).to_pylist() == [
        Decimal("-0.01"),
        None,
        Decimal("0.99"),
    ]
    with pytest.raises(ValueError, match="DECIMAL"):
        scaled_decimal(pa.array([100]), 2, 2)


def test_measures_worked_out_in_arrow_equal_the_sql_over_the_same_rows() -> None:
    payloads = [
        _setl("S1", "11", "0", "12.34"),
        _setl("S2", "21", "0", "300.00", ipt_days=4),
        _setl("S3", "22", "1", "-300.00", ipt_days=4),
        _setl("S4", "41", "0", "7.77"),
        _setl("S5", None, "1", "-1.00"),
    ]
    table = entity_table(
        [_insert(i + 1, rows.SETL, p["setl_id"], p) for i, p in enumerate(payloads)], rows.SETL
    )
    images = SETL_ENTITY.images(table)
    con = duckdb.connect(":memory:")
    con.execute(SETL_ENTITY.ddl())
    con.from_arrow(images).insert_into("setl_fact")
    by_sql = con.sql(
        f"SELECT {store_mod._DELTA_COLUMNS} FROM setl_fact ORDER BY seq"
    ).to_arrow_table()
    assert store_mod._deltas(images).to_pylist() == by_sql.cast(store_mod._DELTA).to_pylist()


def test_a_missing_line_list_reads_as_nulls_and_deletes_append_nothing() -> None:
    visit = {"mdtrt_id": "M1", "fixmedins_code": "H1"}
    line = {"feedetl_sn": "1", "fee_ocur_time": AT, "med_list_codg": "X1", "cnt": Decimal("1")}
    line |= {"det_item_fee_sumamt": Decimal("3.00"), "pric": Decimal("3")}
    payload = rows.fee_payload(
        setl_id="S1", setl_time=AT, psn_no="P1", visit=visit, med_type="11", lines=[line, line]
    )
    del payload["pric"]  # a payload written before the column existed
    table = entity_table(
        [_insert(1, rows.FEE, "S1", payload), change(2, rows.FEE, "S9", {}, "delete")], rows.FEE
    )
    images = BY_ENTITY[rows.FEE].images(table).to_pylist()
    assert [(r["setl_id"], r["pric"], r["det_item_fee_sumamt"]) for r in images] == [
        ("S1", None, Decimal("3.00")),
        ("S1", None, Decimal("3.00")),
    ]
