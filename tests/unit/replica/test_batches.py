"""Change-log rows → Arrow micro-batches: last change per key wins, unknown entities are
skipped, and nothing outside the replica's columns (personal identifiers) gets through."""

from __future__ import annotations

from replica_changes import change

from yibao.replica import batches
from yibao.replica.schema import BY_ENTITY


def test_last_change_of_a_key_wins_and_positions_are_kept() -> None:
    batch = batches.build(
        [
            change(5, "fixmedins", "H1", {"fixmedins_code": "H1", "fixmedins_name": "旧名"}),
            change(6, "fixmedins", "H2", {"fixmedins_code": "H2", "fixmedins_name": "乙"}),
            change(7, "fixmedins", "H1", {"fixmedins_code": "H1", "fixmedins_name": "新名"}),
        ]
    )
    table = batch.tables["fixmedins"]
    assert table.column("fixmedins_code").to_pylist() == ["H2", "H1"]
    assert table.column("fixmedins_name").to_pylist() == ["乙", "新名"]
    assert (batch.first_seq, batch.last_seq, batch.changes) == (5, 7, 3)
    assert batch.last_ts_ms == 1_700_000_000_007


def test_personal_identifiers_never_enter_a_batch() -> None:
    payload = {
        "psn_no": "P1",
        "gend": "1",
        "birth_year": 1980,
        "certno": "110101198005170011",
        "psn_name": "张三",
        "tel": "13800000000",
    }
    table = batches.build([change(1, "psn", "P1", payload)]).tables["psn"]
    assert "certno" not in table.column_names
    assert "psn_name" not in table.column_names
    assert "tel" not in table.column_names
    values = [v for col in table.columns for v in col.to_pylist()]
    assert "110101198005170011" not in values and "张三" not in values
    assert set(table.column_names) == {"seq", "op", *BY_ENTITY["psn"].batch_columns}


def test_unknown_entities_are_counted_and_skipped() -> None:
    batch = batches.build(
        [change(1, "risk_hit", "R1", {"x": 1}), change(2, "psn", "P1", {"gend": "2"})]
    )
    assert batch.skipped == 1 and batch.changes == 2 and batch.last_seq == 2
    assert list(batch.tables) == ["psn"]
    # the key comes from entity_key when the payload lacks it
    assert batch.tables["psn"].column("psn_no").to_pylist() == ["P1"]


def test_deletes_carry_only_their_key() -> None:
    batch = batches.build([change(1, "mdtrt", "M1", {}, op="delete")])
    table = batch.tables["mdtrt"]
    assert table.column("op").to_pylist() == ["delete"]
    assert table.column("mdtrt_id").to_pylist() == ["M1"]


def test_a_key_created_in_the_batch_stays_an_insert_whatever_follows() -> None:
    batch = batches.build(
        [
            change(
                1, "fixmedins", "H1", {"fixmedins_code": "H1", "fixmedins_name": "甲"}, "insert"
            ),
            change(2, "fixmedins", "H2", {"fixmedins_code": "H2", "fixmedins_name": "乙"}),
            change(3, "fixmedins", "H1", {"fixmedins_code": "H1", "fixmedins_name": "甲二"}),
        ]
    )
    table = batch.tables["fixmedins"]
    assert table.column("fixmedins_code").to_pylist() == ["H2", "H1"]
    assert table.column("op").to_pylist() == ["upsert", "insert"]
    assert table.column("fixmedins_name").to_pylist() == ["乙", "甲二"]


def test_a_key_created_and_deleted_in_the_batch_leaves_nothing_but_counts() -> None:
    batch = batches.build(
        [
            change(1, "fixmedins", "H1", {"fixmedins_code": "H1"}, "insert"),
            change(2, "fixmedins", "H2", {"fixmedins_code": "H2"}),
            change(3, "fixmedins", "H1", {}, "delete"),
            change(4, "fixmedins", "H2", {}, "delete"),
        ]
    )
    table = batch.tables["fixmedins"]
    # H2 existed before the batch (an upsert): its delete must reach the replica
    assert table.column("fixmedins_code").to_pylist() == ["H2"]
    assert table.column("op").to_pylist() == ["delete"]
    assert (batch.first_seq, batch.last_seq, batch.changes) == (1, 4, 4)


def test_a_later_insert_after_an_upsert_is_not_taken_for_a_new_key() -> None:
    batch = batches.build(
        [
            change(1, "fixmedins", "H1", {"fixmedins_code": "H1", "fixmedins_name": "甲"}),
            change(
                2, "fixmedins", "H1", {"fixmedins_code": "H1", "fixmedins_name": "乙"}, "insert"
            ),
        ]
    )
    assert batch.tables["fixmedins"].column("op").to_pylist() == ["upsert"]
