"""Post-hoc runs end to end on both backends (SQLite; MariaDB under `mysql`): settlements reach
the replica through the change log, a run finds a split admission there, stores the hit in
`rule_hit` (stage post, the person only as psn_ref) with its `risk_run`, a rerun stores nothing
twice, the hit reaches the replica, `hits` finds it by psn_no too; bad input writes nothing."""

from __future__ import annotations

import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

sys.path.insert(0, str(Path(__file__).parent))
import factories

from yibao.config import Settings
from yibao.errors import InvalidInput
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.service import Replica
from yibao.review import posthoc
from yibao.risk.params_io import load_ruleset
from yibao.storage.tables import risk_run, rule_hit

RULES = load_ruleset()


@pytest.fixture
def stays(rs_engine: Engine) -> dict[str, str]:
    with rs_engine.begin() as conn:
        factories.institution(conn, "H11010100001", name="示例三级医院", hosp_lv="3")
        person = factories.person(conn, insutype="310", psn_type="1101")
        first = factories.settlement(
            conn,
            fixmedins_code="H11010100001",
            psn_no=person["psn_no"],
            medfee=Decimal("3000.00"),
            med_type="21",
            days=5,
            maindiag_code="J18.900",
            setl_time=datetime(2024, 6, 6, 10),
        )
        again = factories.settlement(
            conn,
            fixmedins_code="H11010100001",
            psn_no=person["psn_no"],
            medfee=Decimal("2000.00"),
            med_type="21",
            days=4,
            maindiag_code="J18.000",
            setl_time=datetime(2024, 6, 16, 10),  # admitted Jun 12: 6 days after discharge
        )
    return {"psn_no": person["psn_no"], "first": first["setl_id"], "again": again["setl_id"]}


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_run_stores_post_hits_once_and_they_reach_the_replica(
    rs_settings: Settings, rs_engine: Engine, stays: dict[str, str]
) -> None:
    replica = Replica.open(rs_settings)
    try:
        summary = posthoc.run_on_replica(
            replica, RULES, since=date(2024, 6, 1), until=date(2024, 6, 30)
        )
        assert summary["by_category"] == {"split_admission": 1}
        assert summary["hits_new"] == 1 and summary["since"] == "2024-06-01"
        with rs_engine.connect() as conn:
            (row,) = [dict(r._mapping) for r in conn.execute(select(rule_hit))]
        assert row["stage"] == "post" and row["rule_id"] == "POST-SPLIT-ADMISSION"
        assert row["psn_no"] is None and row["setl_id"] == stays["again"]
        ref = Pseudonyms.for_dir(rs_settings.data_dir).ref(stays["psn_no"])
        assert row["psn_ref"] == ref
        assert row["amount"] > 0 and row["rule_version"] == "2025.1"

        # idempotent: the same days again find the hit and store nothing twice
        again = posthoc.run_on_replica(
            replica, RULES, since=date(2024, 6, 1), until=date(2024, 6, 30)
        )
        assert again["hits_found"] == 1 and again["hits_new"] == 0
        assert _count(rs_engine, rule_hit) == 1 and _count(rs_engine, risk_run) == 2

        # the hit is on the replica, under the pseudonym
        cur = replica.store.cursor()
        got = cur.execute("SELECT stage, psn_ref, setl_id FROM rule_hit").fetchall()
        cur.close()
        assert got == [("post", ref, stays["again"])]

        # incremental: the default starts the day after the last complete run
        later = posthoc.run_on_replica(replica, RULES, until=date(2024, 7, 5))
        assert later["since"] == "2024-07-01" and later["hits_found"] == 0
        up_to_date = posthoc.run_on_replica(replica, RULES, until=date(2024, 7, 5))
        assert up_to_date.get("up_to_date") is True and up_to_date["run_id"] is None
    finally:
        replica.close()

    pseudonyms = Pseudonyms.for_dir(rs_settings.data_dir)
    with rs_engine.connect() as conn:
        by_psn = posthoc.hits(conn, pseudonyms, psn_no=stays["psn_no"])
        by_ref = posthoc.hits(conn, pseudonyms, psn_no=ref)
        other = posthoc.hits(conn, pseudonyms, category="benford")
    assert [h["setl_id"] for h in by_psn] == [stays["again"]] == [h["setl_id"] for h in by_ref]
    hit = by_psn[0]
    assert set(hit) == {
        "hit_id", "rule_id", "category", "stage", "result_type", "psn_ref", "fixmedins_code",
        "mdtrt_id", "setl_id", "amount", "detected_at", "evidence",
    }  # fmt: skip
    assert hit["evidence"]["gap_days"] == 6 and hit["psn_ref"] == ref
    assert stays["psn_no"] not in str(hit)
    assert other == []


def test_bad_input_is_refused_and_writes_nothing(
    rs_settings: Settings, rs_engine: Engine, stays: dict[str, str]
) -> None:
    replica = Replica.open(rs_settings)
    try:
        with pytest.raises(InvalidInput, match="since/until"):
            posthoc.run_on_replica(replica, RULES, since=date(2024, 6, 30), until=date(2024, 6, 1))
        with pytest.raises(InvalidInput, match=r"category: .*'nope'"):
            posthoc.run_on_replica(replica, RULES, categories=["nope"])
        # item_substitution needs the stock at the moment of the sale: never judged at night
        with pytest.raises(InvalidInput, match=r"category: .*item_substitution"):
            posthoc.run_on_replica(replica, RULES, categories=["item_substitution"])
    finally:
        replica.close()
    assert _count(rs_engine, rule_hit) == 0 and _count(rs_engine, risk_run) == 0


def test_a_category_run_is_not_the_incremental_mark(
    rs_settings: Settings, rs_engine: Engine, stays: dict[str, str]
) -> None:
    replica = Replica.open(rs_settings)
    try:
        only = posthoc.run_on_replica(
            replica,
            RULES,
            since=date(2024, 6, 1),
            until=date(2024, 6, 30),
            categories=["benford,los_outlier"],
        )
        assert only["categories"] == ["benford", "los_outlier"] and only["hits_found"] == 0
        with rs_engine.connect() as conn:
            assert posthoc.last_covered(conn) is None
    finally:
        replica.close()


def test_real_time_hits_are_listed_by_their_pseudonym(
    rs_settings: Settings, rs_engine: Engine
) -> None:
    from yibao.kit.ids import IdGenerator
    from yibao.review.service import Where, hit_rows, store
    from yibao.risk.model import Hit

    hit = Hit(
        rule_id="GEND-01",
        rule_version="2025.1",
        category="gender_limit",
        name="限性别用药/诊疗",
        stage="mid",
        result_type="violation",
        action="selfpay",
        reason="x (y)",
        amount=Decimal("12.30"),
        evidence={"lines": [{"line_id": "1"}]},
    )
    at = datetime(2024, 6, 3, 9, 30)
    where = Where("2204", "M1", "H11010100001", "PSN-SECRET-1", "MD1", at, IdGenerator(2))
    with rs_engine.begin() as conn:
        store(conn, hit_rows([hit], where))
    pseudonyms = Pseudonyms.for_dir(rs_settings.data_dir)
    with rs_engine.connect() as conn:
        (found,) = posthoc.hits(conn, pseudonyms, psn_no="PSN-SECRET-1")
        assert posthoc.hits(conn, pseudonyms, since=date(2024, 6, 4)) == []
        assert posthoc.hits(conn, pseudonyms, fixmedins_code="H11010100001") == [found]
    assert found["psn_ref"] == pseudonyms.ref("PSN-SECRET-1")
    assert found["stage"] == "mid" and found["amount"] == "12.30" and found["setl_id"] is None
    assert found["evidence"] == {"lines": [{"line_id": "1"}]}
    assert "PSN-SECRET-1" not in str(found)
