"""The bulk load's row shapes: constant columns left to the writer's INSERT, and replica
payloads read from the at-rest rows equal to what the payload contract builds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from yibao.replica import rows as replica_rows
from yibao.simulate.row_shapes import (
    CONSTANT_COLUMNS,
    FEE_DETAIL_COLUMNS,
    constants_for,
    converter,
    payload_builder,
    payload_schema,
    row_columns,
)
from yibao.simulate.spool import insert_sql
from yibao.storage.tables import fee_detail, mdtrt, setl

NOW = datetime(2024, 6, 1, 8, 30, 15, 123456)


def _setl_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {c.name: None for c in setl.columns}
    row.update(constants_for(setl, NOW))
    row.update(
        setl_id="S1", mdtrt_id="M1", psn_no="P1", fixmedins_code="H1", insutype="310",
        psn_type="11", med_type="21", clr_type="21", clr_optins="110105", hosp_lv="3",
        insuplc_admdvs="110105", setl_time=datetime(2024, 3, 9, 10, 1, 2, 345000),
        year=2024, age=61, maindiag_code="I10.x00",
        begndate=datetime(2024, 3, 2, 9, 0), enddate=datetime(2024, 3, 9, 10, 1, 2, 345000),
        fee_line_cnt=88, medins_setl_id="SIM1", refd_setl_flag="0", vali_flag="1",
        pool_prop_selfpay=Decimal("0.15"), balc=Decimal("12.34"),
    )  # fmt: skip
    for name in replica_rows.SETL_AMOUNTS:
        row[name] = Decimal("1234.56")
    row["hifp_pay"] = Decimal("-0.01")
    row.update(overrides)
    return row


def test_constant_columns_leave_the_tuple_and_a_differing_value_is_refused() -> None:
    to_tuple = converter(setl, constants_for(setl, NOW))
    row = _setl_row()
    values = to_tuple(row)
    assert (
        len(values) == len(row_columns(setl)) == len(setl.columns) - len(CONSTANT_COLUMNS["setl"])
    )
    assert "opter_id" not in row_columns(setl)
    with pytest.raises(ValueError, match="opter_id"):
        to_tuple(_setl_row(opter_id="someone"))


def test_the_insert_holds_the_constants_as_literals() -> None:
    sql = insert_sql(fee_detail, "qmark", constants_for(fee_detail, NOW))
    assert sql.count("?") == len(FEE_DETAIL_COLUMNS)
    assert "'2024-06-01 08:30:15.123456'" in sql  # created_at, at rest
    assert "NULL" in sql and "'0'" in sql  # cancelled_at, rx_circ_flag
    # quotes in a literal are doubled, never closing the string
    assert insert_sql(mdtrt, "qmark", {"extra": "it's"}).count("'it''s'") == 1


@pytest.mark.parametrize(
    "overrides",
    [{}, {"refd_setl_flag": "1", "init_setl_id": "S0", "fee_line_cnt": -88}, {"begndate": None}],
)
def test_setl_payload_from_the_row_equals_the_contract(overrides: dict[str, object]) -> None:
    row = _setl_row(**overrides)
    at_rest = converter(setl, constants_for(setl, NOW))(row)
    visit = {"dept_code": "D07", "caty": "A04", "atddr_no": "D110105000031"}
    ipt = replica_rows.setl_payload(row, admdvs="110105", gend="2")["ipt_days"]
    built = payload_builder(replica_rows.SETL, setl, constants_for(setl, NOW))(
        at_rest, admdvs="110105", gend="2", ipt_days=ipt, dept_code="D07", caty="A04",
        dr_code="D110105000031",
    )  # fmt: skip
    expected = replica_rows.setl_payload(row, admdvs="110105", gend="2", visit=visit)
    names = [f.name for f in _schema(replica_rows.SETL)]
    assert dict(zip(names, built, strict=True)) == {n: expected[n] for n in names}


def test_mdtrt_payload_from_the_row_equals_the_contract() -> None:
    row: dict[str, object] = {c.name: None for c in mdtrt.columns}
    row.update(constants_for(mdtrt, NOW))
    row.update(
        mdtrt_id="M1", fixmedins_code="H1", psn_no="P1", insutype="390", med_type="11",
        mdtrt_kind="outpatient", begntime=datetime(2024, 1, 2, 9, 5, 6, 7),
        maindiag_code="J06.900", mdtrt_stas="settled",
    )  # fmt: skip
    at_rest = converter(mdtrt, constants_for(mdtrt, NOW))(row)
    built = payload_builder(replica_rows.MDTRT, mdtrt, constants_for(mdtrt, NOW))(at_rest)
    expected = replica_rows.mdtrt_payload(row)
    names = [f.name for f in _schema(replica_rows.MDTRT)]
    assert dict(zip(names, built, strict=True)) == {n: expected[n] for n in names}


def _schema(entity: str) -> list:
    return list(payload_schema(entity))
