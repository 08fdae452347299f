"""Issue 17 on TiDB: the analytics read the pseudonymised `an_setl` (fed from the change log,
the person as `psn_ref`), and every named query answers there exactly as on `setl`. Run on
the portable path (SQLite, MariaDB) with a stand-in for TiFlash's read-only session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

import factories
from sqlalchemy import Connection, Engine, func, select

from yibao.analytics.registry import registry
from yibao.analytics.service import Analytics
from yibao.config import Settings
from yibao.replica import pseudonym
from yibao.replica.pseudo_tables import PseudoTables
from yibao.replica.pseudonym import Pseudonyms
from yibao.storage.tables import an_setl, an_state, setl


class _TiFlashStandIn:
    """TiFlashReplica.read without TiDB's session statements."""

    def __init__(self, pseudo: PseudoTables) -> None:
        self.pseudo = pseudo

    @contextmanager
    def read(self) -> Iterator[tuple[Connection, int]]:
        self.pseudo.catch_up()
        with self.pseudo.engine.connect() as conn:
            yield conn, self.pseudo.applied_seq(conn)
            conn.rollback()


def _sums(engine: Engine, table) -> tuple:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                select(func.count(), func.sum(table.c.medfee_sumamt), func.sum(table.c.hifp_pay))
            ).one()
        )


def test_an_setl_follows_the_log_and_holds_pseudonyms_only(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    refs = Pseudonyms.for_dir(rs_settings.data_dir)
    pseudo = PseudoTables(rs_engine, refs)
    applied = pseudo.catch_up()
    assert applied > 0
    assert _sums(rs_engine, an_setl) == _sums(rs_engine, setl)
    assert "psn_no" not in an_setl.c
    employee = seeded["employee"]["psn_no"]
    with rs_engine.connect() as conn:
        mine = conn.execute(
            select(func.count()).where(an_setl.c.psn_ref == refs.ref(employee))
        ).scalar_one()
        mapped = set(conn.execute(select(an_setl.c.psn_ref).distinct()).scalars())
    assert mine == 2  # the settlement and its reversal record
    assert employee not in mapped and seeded["resident"]["psn_no"] not in mapped

    # a new settlement and a reversal reach it on the next catch-up
    with rs_engine.begin() as conn:
        s = factories.settlement(
            conn,
            fixmedins_code="H11010100001",
            psn_no=employee,
            medfee=Decimal("10.01"),
            setl_time=datetime(2024, 6, 6, 9),
        )
        factories.reverse(conn, s["setl_id"], at=datetime(2024, 6, 6, 10))
    assert pseudo.catch_up() > applied
    assert _sums(rs_engine, an_setl) == _sums(rs_engine, setl)
    with rs_engine.connect() as conn:
        flags = conn.execute(
            select(an_setl.c.vali_flag).where(an_setl.c.setl_id == s["setl_id"])
        ).scalar_one()
    assert flags == "0"


def test_every_named_query_answers_on_an_setl_as_on_setl(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    pseudo = PseudoTables(rs_engine, Pseudonyms.for_dir(rs_settings.data_dir))
    on_tidb = Analytics(rowstore=rs_engine, tiflash=_TiFlashStandIn(pseudo))  # type: ignore[arg-type]
    on_rows = Analytics(rowstore=rs_engine)
    params = {"date_from": date(2024, 5, 1), "date_to": date(2024, 6, 30)}
    for name in registry():
        given = dict(params, fixmedins_code="H11010100001") if name == "settlements" else params
        assert (
            on_tidb.run_on_replica(name, given).data == on_rows.run_on_rowstore(name, given).data
        ), name


def test_a_new_key_rebuilds_the_table_with_new_pseudonyms(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    first = Pseudonyms.for_dir(rs_settings.data_dir)
    PseudoTables(rs_engine, first).catch_up()
    rotated = pseudonym.rotate_key(rs_settings.data_dir)
    PseudoTables(rs_engine, rotated).catch_up()
    employee = seeded["employee"]["psn_no"]
    with rs_engine.connect() as conn:
        refs = set(conn.execute(select(an_setl.c.psn_ref).distinct()).scalars())
        key_id = conn.execute(select(an_state.c.key_id)).scalar_one()
    assert rotated.ref(employee) in refs and first.ref(employee) not in refs
    assert key_id == rotated.key_id
    assert _sums(rs_engine, an_setl) == _sums(rs_engine, setl)
