"""The DuckDB store on an in-memory database: exact amounts, upserts by key, rollups equal to
the fact table, and all-or-nothing batches (applied_seq moves with the rows or not at all)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import pytest
from replica_changes import change

from yibao.kit.priority import thread_nice
from yibao.replica import batches, rows
from yibao.replica import store as store_mod
from yibao.replica.schema import MEASURE_NAMES, ROLLUPS, Rollup
from yibao.replica.store import ReplicaStore, count_rows

CENT = Decimal("0.01")
AMOUNT_FIELDS = {name: Decimal("0.00") for name in rows.SETL_AMOUNTS}


def setl_row(setl_id: str, medfee: str, *, at: datetime, refd: str = "0", vali: str = "1") -> dict:
    fee = Decimal(medfee)
    row = {
        **AMOUNT_FIELDS,
        "setl_id": setl_id,
        "mdtrt_id": "M" + setl_id,
        "psn_no": "P1",
        "fixmedins_code": "H1",
        "insutype": "310",
        "psn_type": "1101",
        "med_type": "11",
        "clr_type": "11",
        "hosp_lv": "3",
        "insuplc_admdvs": "110100",
        "maindiag_code": "J06.900",
        "refd_setl_flag": refd,
        "vali_flag": vali,
        "setl_time": at,
        "medfee_sumamt": fee,
        "fund_pay_sumamt": (fee * Decimal("0.6")).quantize(CENT),
        "hifp_pay": (fee * Decimal("0.6")).quantize(CENT),
        "drug_sumamt": (fee * Decimal("0.5")).quantize(CENT),
        "fee_line_cnt": 2,
    }
    return row


def setl_change(seq: int, row: dict, op: str = "upsert") -> dict:
    payload = rows.setl_payload(row, admdvs="110101", gend="1")
    return change(seq, rows.SETL, row["setl_id"], payload, op)


def visit_changes(seq: int, setl_id: str, op: str, *, at: datetime) -> list[dict]:
    """A visit and the fee lines of its settlement `setl_id`, as changes from `seq` on."""
    visit = {
        "mdtrt_id": "M" + setl_id,
        "psn_no": "P1",
        "fixmedins_code": "H1",
        "insutype": "310",
        "med_type": "11",
        "mdtrt_kind": "outpatient",
        "begntime": at,
        "mdtrt_stas": "1",
        "vali_flag": "1",
    }
    line = {
        "feedetl_sn": "1",
        "fee_ocur_time": at,
        "med_list_codg": "X01",
        "list_type": "101",
        "med_chrgitm_type": "09",
        "cnt": Decimal("2"),
        "det_item_fee_sumamt": Decimal("12.34"),
        "pric": Decimal("6.17"),
    }
    fee = rows.fee_payload(
        setl_id=setl_id, setl_time=at, psn_no="P1", visit=visit, med_type="11", lines=[line]
    )
    return [
        change(seq, rows.MDTRT, visit["mdtrt_id"], rows.mdtrt_payload(visit), op),
        change(seq + 1, rows.FEE, setl_id, fee, op),
    ]


def _everything(store: ReplicaStore) -> dict[str, list]:
    """Every fact row (without its seq) and every rollup's sums, comparable across stores."""
    measures = ", ".join(f"SUM({m})" for m in MEASURE_NAMES)
    found = {
        t: sorted(map(repr, store.query(f"SELECT * EXCLUDE (seq) FROM {t}")[2]))
        for t in ("setl_fact", "fee_fact", "mdtrt_fact")
    }
    for rollup in ROLLUPS:
        found[rollup.table] = store.query(f"SELECT {measures} FROM {rollup.table}")[2]
    return found


@pytest.fixture
def store() -> ReplicaStore:
    s = ReplicaStore(":memory:")
    yield s
    s.close()


def test_amounts_arrive_exact_as_decimal_yuan(store: ReplicaStore) -> None:
    row = setl_row("S1", "12345678901234.57", at=datetime(2024, 6, 3, 9))
    store.apply(batches.build([setl_change(1, row)]))
    seq, _cols, result = store.query("SELECT medfee_sumamt, setl_date, sign FROM setl_fact")
    assert seq == 1
    assert result == [(Decimal("12345678901234.57"), datetime(2024, 6, 3).date(), 1)]
    _seq, _cols, types = store.query("SELECT typeof(medfee_sumamt) FROM setl_fact")
    assert types == [("DECIMAL(16,2)",)]


def test_query_binds_positional_and_named_parameters_and_counts_rows(
    store: ReplicaStore,
) -> None:
    for seq, (setl_id, fee) in enumerate([("S1", "10.00"), ("S2", "20.00")], start=1):
        row = setl_row(setl_id, fee, at=datetime(2024, 6, 3, 9))
        store.apply(batches.build([setl_change(seq, row)]))
    sql = "SELECT setl_id FROM setl_fact WHERE medfee_sumamt > {} ORDER BY 1"
    assert store.query(sql.format("?"), [Decimal("15")])[2] == [("S2",)]
    assert store.query(sql.format("$fee"), {"fee": Decimal("5")})[2] == [("S1",), ("S2",)]
    assert store.counts()["setl_fact"] == 2
    with store.snapshot() as (cur, _seq):
        assert count_rows(cur, "setl_fact") == 2


def test_upsert_replaces_the_row_and_rollups_follow(store: ReplicaStore) -> None:
    day = datetime(2024, 6, 3, 9)
    store.apply(batches.build([setl_change(1, setl_row("S1", "100.00", at=day))]))
    # the original re-sent with vali_flag 0, and its reversal record on the next day
    store.apply(
        batches.build(
            [
                setl_change(2, setl_row("S1", "100.00", at=day, vali="0")),
                setl_change(3, {**setl_row("S2", "-100.00", at=datetime(2024, 6, 4, 9), refd="1")}),
            ]
        )
    )
    _s, _c, fact = store.query("SELECT setl_id, vali_flag, sign FROM setl_fact ORDER BY setl_id")
    assert fact == [("S1", "0", 1), ("S2", "1", -1)]
    for rollup in ROLLUPS:
        _s, _c, per_day = store.query(
            f"SELECT setl_date::VARCHAR, SUM(setl_cnt), SUM(medfee_sumamt) FROM {rollup.table} "
            "GROUP BY 1 ORDER BY 1"
        )
        assert per_day == [
            ("2024-06-03", 1, Decimal("100.00")),
            ("2024-06-04", -1, Decimal("-100.00")),
        ], rollup.table
    assert store.applied_seq == 3


def _statements(store: ReplicaStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts of the batch statements `store` runs from now on."""
    seen: list[str] = []
    run, returning = store._run, store._returning

    def counted_run(cur: object, sql: str) -> None:
        seen.append(sql)
        run(cur, sql)  # type: ignore[arg-type]

    def counted_returning(cur: object, sql: str) -> object:
        seen.append(sql)
        return returning(cur, sql)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_run", counted_run)
    monkeypatch.setattr(store, "_returning", counted_returning)
    return seen


def test_new_keys_go_in_without_a_look_for_older_images(
    store: ReplicaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = datetime(2024, 6, 3, 9)
    as_upserts = ReplicaStore(":memory:", pseudonyms=store.pseudonyms)
    try:
        for target, op in ((store, "insert"), (as_upserts, "upsert")):
            seen = _statements(target, monkeypatch)
            target.apply(
                batches.build(
                    [
                        *visit_changes(1, "S1", op, at=day),
                        setl_change(3, setl_row("S1", "12.34", at=day), op),
                        setl_change(4, setl_row("S2", "20.00", at=day), op),
                    ]
                )
            )
            looked = [sql for sql in seen if sql.startswith(("DELETE", "SELECT 1 FROM setl_fact"))]
            # the upserts look for older images of every entity; the inserts never do
            assert (len(looked) > 0) is (op == "upsert"), looked
        assert _everything(store) == _everything(as_upserts)
        # a later image of a new key replaces it as before
        store.apply(batches.build([setl_change(5, setl_row("S1", "12.34", at=day, vali="0"))]))
        assert store.query("SELECT setl_id, vali_flag FROM setl_fact ORDER BY 1")[2] == [
            ("S1", "0"),
            ("S2", "1"),
        ]
    finally:
        as_upserts.close()


def test_below_the_replay_horizon_an_insert_replaces_what_the_file_holds(
    store: ReplicaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild from the tables reads them after noting the log's position, so the log after
    that position may insert keys the tables already gave the file (`replay_until`)."""
    day = datetime(2024, 6, 3, 9)
    store.apply(batches.build([setl_change(1, setl_row("S1", "10.00", at=day))]))
    store.replay_until = 3
    store.apply(batches.build([setl_change(2, setl_row("S1", "10.00", at=day), "insert")]))
    store.apply(batches.build([*visit_changes(3, "S1", "insert", at=day)]))
    assert store.query("SELECT count(*) FROM setl_fact")[2] == [(1,)]
    measures = ", ".join(f"SUM({m})" for m in ("setl_cnt", "medfee_sumamt"))
    for rollup in ROLLUPS:
        assert store.query(f"SELECT {measures} FROM {rollup.table}")[2] == [
            (1, Decimal("10.00"))
        ], rollup.table
    # past the horizon a new key is trusted again: in without a look for older images
    seen = _statements(store, monkeypatch)
    store.apply(batches.build([setl_change(5, setl_row("S2", "5.00", at=day), "insert")]))
    assert not [sql for sql in seen if sql.startswith(("DELETE", "SELECT 1 FROM setl_fact"))]
    assert store.query("SELECT count(*), SUM(medfee_sumamt) FROM setl_fact")[2] == [
        (2, Decimal("15.00"))
    ]


def test_a_failing_batch_changes_nothing(
    store: ReplicaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = datetime(2024, 6, 3, 9)
    store.apply(batches.build([setl_change(1, setl_row("S1", "100.00", at=day))]))

    def boom(*_args: object) -> None:
        raise RuntimeError("crash between the fact and the rollups")

    monkeypatch.setattr(store_mod, "_summed", boom)
    with pytest.raises(RuntimeError):
        store.apply(batches.build([setl_change(2, setl_row("S2", "50.00", at=day))]))
    monkeypatch.undo()
    seq, _c, result = store.query("SELECT count(*), SUM(medfee_sumamt) FROM setl_fact")
    assert seq == 1 == store.applied_seq
    assert result == [(1, Decimal("100.00"))]
    # and the same batch applies cleanly afterwards
    store.apply(batches.build([setl_change(2, setl_row("S2", "50.00", at=day))]))
    assert store.query("SELECT count(*) FROM setl_fact")[2] == [(2,)]


def test_a_batch_must_start_after_applied_seq(store: ReplicaStore) -> None:
    store.apply(batches.build([setl_change(1, setl_row("S1", "1.00", at=datetime(2024, 6, 3)))]))
    with pytest.raises(ValueError, match="applied"):
        store.apply(
            batches.build([setl_change(1, setl_row("S1", "1.00", at=datetime(2024, 6, 3)))])
        )


def test_bulk_append_sorts_by_date_and_refreshes_rollups(store: ReplicaStore) -> None:
    payloads = [
        rows.setl_payload(
            setl_row(f"S{i}", "10.00", at=datetime(2024, 6, 10 - i, 9)), admdvs="110101", gend="2"
        )
        for i in range(5)
    ]
    table = batches.from_payloads(rows.SETL, payloads)
    assert store.bulk_append(rows.SETL, table) == 5
    _s, _c, dates = store.query("SELECT setl_date::VARCHAR FROM setl_fact")
    assert [d for (d,) in dates] == sorted(d for (d,) in dates)
    measures = ", ".join(f"SUM({m})" for m in MEASURE_NAMES)
    for rollup in ROLLUPS:
        assert store.query(f"SELECT {measures} FROM {rollup.table}")[2][0][0] == 5
    assert store.meta.source == "bulk"
    store.set_applied(42, 1, source="bulk")
    assert store.applied_seq == 42


def test_incremental_rollups_equal_a_full_recompute(store: ReplicaStore) -> None:
    day = datetime(2024, 6, 3, 9)
    seq = 0
    for i in range(6):
        changes = []
        for j in range(3):
            seq += 1
            changes.append(setl_change(seq, setl_row(f"S{i}-{j}", f"{10 + i}.{j}5", at=day)))
        # the previous batch's first settlement reversed (re-sent with vali_flag 0)
        if i:
            seq += 1
            changes.append(
                setl_change(seq, setl_row(f"S{i - 1}-0", f"{9 + i}.05", at=day, vali="0"))
            )
        store.apply(batches.build(changes))
    measures = ", ".join(f"SUM({m})" for m in MEASURE_NAMES)

    def dupes(rollup: Rollup) -> list:
        keys = ", ".join(("setl_date", *rollup.keys))
        return store.query(
            f"SELECT count(*) FROM (SELECT {keys} FROM {rollup.table} GROUP BY ALL HAVING count(*) > 1)"
        )[2]

    # an open day takes each batch's difference as rows of its own (one INSERT per rollup)
    assert dupes(ROLLUPS[0]) == [(1,)]
    incremental = {r.table: store.query(f"SELECT {measures} FROM {r.table}")[2] for r in ROLLUPS}
    # a batch two days later seals the day: compacted to one row per key, same sums
    seq += 1
    store.apply(
        batches.build([setl_change(seq, setl_row("S-late", "1.00", at=day.replace(day=5)))])
    )
    day_sums = f"SELECT {measures} FROM {{t}} WHERE setl_date = DATE '2024-06-03'"
    for rollup in ROLLUPS:
        assert dupes(rollup) == [(0,)], rollup.table
        assert store.query(day_sums.format(t=rollup.table))[2] == incremental[rollup.table]
    incremental = {r.table: store.query(f"SELECT {measures} FROM {r.table}")[2] for r in ROLLUPS}
    incremental = {r.table: store.query(f"SELECT {measures} FROM {r.table}")[2] for r in ROLLUPS}
    store.refresh_rollups()
    for rollup in ROLLUPS:
        assert store.query(f"SELECT {measures} FROM {rollup.table}")[2] == incremental[rollup.table]


def test_widened_gives_duckdb_more_threads_and_memory_for_a_while_then_the_caps_again() -> None:
    store = ReplicaStore(":memory:", threads=1, memory_limit="512MB")
    try:

        def current(name: str) -> str:
            (value,) = store._con.execute(f"SELECT current_setting('{name}')").fetchone()
            return str(value)

        capped = current("memory_limit")
        with store.widened(2, "2GB"):
            assert current("threads") == "2"
            assert current("memory_limit") != capped
        assert current("threads") == "1"
        assert current("memory_limit") == capped
        with pytest.raises(RuntimeError), store.widened(2, "2GB"):
            raise RuntimeError("a rewrite failed")
        assert current("threads") == "1" and current("memory_limit") == capped
    finally:
        store.close()


def test_a_reading_thread_yields_the_cpu_when_the_store_asks_it(store: ReplicaStore) -> None:
    """`reader_nice` (the analytics process's `analytics_nice`): a thread's first snapshot
    lowers that thread's priority; a batch applied meanwhile by another thread is not lowered."""
    store.reader_nice = 4
    seen: list[tuple[int, int]] = []

    def read() -> None:
        before = thread_nice()
        with store.snapshot():
            pass
        seen.append((before, thread_nice()))

    t = threading.Thread(target=read)
    t.start()
    t.join()
    applier_before = thread_nice()
    store.apply(batches.build([setl_change(1, setl_row("S1", "100.00", at=datetime(2024, 6, 3)))]))
    assert seen == [(seen[0][0], min(19, seen[0][0] + 4))]
    assert thread_nice() == applier_before


def _inserters() -> list[Callable[..., None]]:
    found: list[Callable[..., None]] = [store_mod._insert_arrow_by_relation]
    direct = store_mod._direct_insert()
    if direct is not None:
        found.append(direct)
    return found


@pytest.mark.parametrize("insert", _inserters(), ids=lambda f: f.__qualname__.split(".")[0])
def test_both_ways_of_appending_arrow_land_the_same_rows(insert: Callable[..., None]) -> None:
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.execute('CREATE TABLE "t" (a DECIMAL(16,2), b VARCHAR, c BIGINT)')
    rows_in = pa.table(
        {
            "a": pa.array([Decimal("1.05"), None, Decimal("-0.10")], pa.decimal128(16, 2)),
            "b": pa.array(["甲", "x", None]),
            "c": pa.array([1, 2, 3], pa.int64()),
        }
    )
    con.execute("BEGIN")
    insert(con, "t", rows_in)
    insert(con, "t", rows_in.slice(0, 1))
    con.execute("COMMIT")
    got = con.execute("SELECT a, b, c FROM t ORDER BY c, a").fetchall()
    assert got == [
        (Decimal("1.05"), "甲", 1),
        (Decimal("1.05"), "甲", 1),
        (None, "x", 2),
        (Decimal("-0.10"), None, 3),
    ]


def test_a_direct_way_that_does_not_land_the_rows_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import duckdb

    def lands_nothing(cur: object, table: str, rows: object) -> None:
        return None  # as if DuckDB's internal module had changed its meaning

    assert not store_mod._lands(lands_nothing)
    monkeypatch.setattr(store_mod, "_direct_insert", lambda: lands_nothing)
    store_mod._inserter.cache_clear()
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a DECIMAL(16,2), text VARCHAR)")
    try:
        store_mod._insert_arrow(con, "t", store_mod._PROBE)
        assert store_mod._inserter() is store_mod._insert_arrow_by_relation
    finally:
        store_mod._inserter.cache_clear()  # the next test picks with the real DuckDB
    assert con.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_the_first_append_picks_the_way_once() -> None:
    import duckdb

    direct = store_mod._direct_insert()
    store_mod._inserter.cache_clear()
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a DECIMAL(16,2), text VARCHAR)")
    store_mod._insert_arrow(con, "t", store_mod._PROBE)
    store_mod._insert_arrow(con, "t", store_mod._PROBE)
    assert store_mod._inserter.cache_info().misses == 1
    # this DuckDB's direct way is proven and taken; without one, the relation way
    assert store_mod._lands(direct) if direct is not None else True
    chosen_direct = store_mod._inserter() is not store_mod._insert_arrow_by_relation
    assert chosen_direct == (direct is not None)
    assert con.execute("SELECT count(*) FROM t").fetchone() == (4,)


def test_the_relation_way_is_taken_where_duckdb_has_no_direct_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import duckdb

    monkeypatch.delattr(duckdb, "_seam", raising=False)
    assert store_mod._direct_insert() is None
