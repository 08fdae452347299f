"""A driver-level UPDATE by key (`storage.prepared.PreparedUpdate`) writes what the same Core
UPDATE would, for each set of columns a caller gives, on either store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select

from yibao.storage.prepared import PreparedUpdate
from yibao.storage.tables import fixmedins
from yibao.storage.uow import UnitOfWork

NOW = datetime(2026, 1, 1, 8, 30, 0)


def _seed(engine: Engine, *codes: str) -> None:
    with engine.begin() as conn:
        for code in codes:
            conn.execute(
                insert(fixmedins).values(
                    fixmedins_code=code, fixmedins_name="旧名", kind="clinic", hosp_lv="1",
                    admdvs="110105", vali_flag="1", created_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip


def _row(engine: Engine, code: str) -> dict[str, object]:
    with engine.connect() as conn:
        found = conn.execute(select(fixmedins).where(fixmedins.c.fixmedins_code == code))
        return dict(found.mappings().one())


def test_each_set_of_columns_updates_only_its_row(engine: Engine) -> None:
    _seed(engine, "H11010500001", "H11010500002")
    by_code = PreparedUpdate(fixmedins, "fixmedins_code")
    later = datetime(2026, 2, 3, 4, 5, 6)
    with UnitOfWork(engine) as uow:
        # a name with a quote and a statement separator: a bound value, never SQL
        assert by_code.execute(uow.conn, "H11010500001", {"fixmedins_name": "新'; --"}) == 1
        assert by_code.execute(uow.conn, "H11010500001", {"hosp_lv": "3", "updated_at": later}) == 1
        assert by_code.execute(uow.conn, "H99999999999", {"hosp_lv": "2"}) == 0
        assert by_code.execute(uow.conn, "H11010500001", {}) == 0  # nothing to set
        uow.commit()
    first, second = _row(engine, "H11010500001"), _row(engine, "H11010500002")
    assert (first["fixmedins_name"], first["hosp_lv"], first["updated_at"]) == (
        "新'; --", "3", later,
    )  # fmt: skip
    assert (second["fixmedins_name"], second["hosp_lv"], second["updated_at"]) == (
        "旧名", "1", NOW,
    )  # fmt: skip
    # one statement per set of columns
    assert set(by_code._by_keys) == {("fixmedins_name",), ("hosp_lv", "updated_at"), ("hosp_lv",)}


def test_a_sql_expression_value_is_run_as_core_would(engine: Engine) -> None:
    _seed(engine, "H11010500001")
    by_code = PreparedUpdate(fixmedins, "fixmedins_code")
    with UnitOfWork(engine) as uow:
        # another column's value: an expression, not a bound value
        value = {"fixmedins_name": fixmedins.c.fixmedins_code}
        changed = by_code.execute(uow.conn, "H11010500001", value)
        uow.commit()
    assert changed == 1
    assert _row(engine, "H11010500001")["fixmedins_name"] == "H11010500001"
    assert by_code._by_keys == {}  # no statement kept for it
