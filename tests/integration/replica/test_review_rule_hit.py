"""The review's tables on both backends (SQLite; MariaDB under `mysql`): the knowledge base
round-trips through its tables with exact numbers and dates, hits are stored with a change-log
row, and the replica receives them without the person."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine, select

from yibao.config import Settings
from yibao.kit.ids import IdGenerator
from yibao.replica.service import Replica
from yibao.review import repo
from yibao.review.demo_kb import DEMO_KB, load_demo_kb
from yibao.review.kb_rows import knowledge_base
from yibao.review.service import Where, hit_rows, store
from yibao.risk.model import Hit
from yibao.storage.tables import rule_hit

NOW = datetime(2025, 3, 10, 9, 30)


def test_knowledge_base_round_trips(engine: Engine) -> None:
    with engine.begin() as conn:
        added = load_demo_kb(conn, ids=IdGenerator(1), now=NOW)
        assert added == {t: len(rows) for t, rows in DEMO_KB.items()}
        assert load_demo_kb(conn, ids=IdGenerator(1), now=NOW) == {}
    with engine.connect() as conn:
        kb = knowledge_base(conn)
    day = date(2025, 3, 10)
    cap = kb.max_price("210300001000000", "3", day)
    assert cap is not None and cap.max_pric == Decimal("300")
    other = kb.max_price("210300001000000", "2", day)
    assert other is not None and other.max_pric == Decimal("260")
    drug = kb.drug_limit("XJ01CAA040E001010100001", day)
    assert drug is not None and drug.max_days == Decimal(7) and drug.max_daily_dose == Decimal(12)
    assert kb.window("readmission", day, 99) == 15
    assert kb.procedures_for("C1001030100100000004", day) == {"331506001000000"}


def _hit() -> Hit:
    return Hit(
        rule_id="GEND-01",
        rule_version="2025.1",
        category="gender_limit",
        name="限性别用药/诊疗",
        stage="mid",
        result_type="violation",
        action="selfpay",
        reason="x (y)",
        line_ids=("1", "2"),
        threshold="2",
        value="1",
        amount=Decimal("12.345"),
        evidence={"lines": [{"line_id": "1"}]},
    )


def test_hits_reach_the_replica_without_the_person(
    rs_settings: Settings, rs_engine: Engine, seeded: dict
) -> None:
    where = Where("2204", "M1", "H11010100001", "PSN-SECRET-1", "MD1", NOW, IdGenerator(2))
    with rs_engine.begin() as conn:
        store(conn, hit_rows([_hit()], where, setl_id="S1"))
    with rs_engine.connect() as conn:
        (row,) = repo.hits_of(conn, mdtrt_id="MD1")
        assert row["amount"] == Decimal("12.35") and row["line_ids"] == "1,2"
        assert row["psn_no"] == "PSN-SECRET-1"
        assert conn.execute(select(rule_hit.c.setl_id)).scalar_one() == "S1"
    replica = Replica.open(rs_settings)
    try:
        replica.applier.catch_up()
        cur = replica.store.cursor()
        cols = [d[0] for d in cur.execute("SELECT * FROM rule_hit").description]
        rows = cur.execute("SELECT rule_id, amount, setl_id FROM rule_hit").fetchall()
        refs = cur.execute("SELECT psn_ref FROM rule_hit").fetchall()
        cur.close()
    finally:
        replica.close()
    assert rows == [("GEND-01", Decimal("12.35"), "S1")]
    assert "psn_no" not in cols and "evidence" not in cols and "reason" not in cols
    (ref,) = refs[0]
    assert ref and len(ref) == 32 and "PSN-SECRET-1" not in ref  # the keyed pseudonym
