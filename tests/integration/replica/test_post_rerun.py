"""The real-time line rules re-run over settled bills at the post stage (issue 19: one
implementation, two stages). A bill settled through the national interface reaches the replica
with its lines' prices and approval flags and the visit's every diagnosis; a post-hoc run finds
what the counter's review would have — with review off at the counter, the rule's hit is stored
at stage post naming the line; with review on, the counter's own hit is not reported again; a
secondary diagnosis that meets an indication is read; a rerun stores nothing twice."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "settlement"))

from settle_factories import (
    EXAM_A,
    HOSP,
    STANDARD_ITEMS,
    Person,
    call_context,
    echo,
    fee_line,
    item_row,
    register_input,
    seed_catalog,
    seed_institution,
    seed_person,
    settle_input,
)

from yibao.config import Settings, load_settings
from yibao.interface.transactions import outpatient
from yibao.kit.clock import local_naive_now
from yibao.replica.service import Replica
from yibao.review import posthoc
from yibao.risk.params_io import load_ruleset
from yibao.runtime import Platform, open_platform
from yibao.storage.tables import rule_hit

FEMALE_ONLY = "XG03CAA001A001010100001"  # 限女性
DIABETES_ONLY = "XA10BAA001A001010100001"  # 限 2 型糖尿病 (E11)
RULES = load_ruleset()


def _settings(tmp_path: Path, sqlite_url: str, review: bool) -> Settings:
    return load_settings(data_dir=tmp_path / "data", database_url=sqlite_url, review=review)


@pytest.fixture
def make_platform(tmp_path: Path, sqlite_url: str) -> Iterator[Any]:
    opened: list[Platform] = []

    def make(review: bool) -> Platform:
        plat = open_platform(_settings(tmp_path, sqlite_url, review))
        opened.append(plat)
        return plat

    yield make
    for plat in opened:
        plat.close()


def _diagnosis(no: int, code: str, name: str) -> dict[str, Any]:
    return {
        "diag_type": "1",
        "diag_srt_no": no,
        "diag_code": code,
        "diag_name": name,
        "maindiag_flag": "1" if no == 1 else "0",
        "diag_dept": "内科",
        "dise_dor_no": "D110102000001",
        "dise_dor_name": "李医生",
        "diag_time": f"{local_naive_now():%Y-%m-%d %H:%M:%S}",
        "vali_flag": "1",
    }


def _settle_a_bill(platform: Platform) -> dict[str, str]:
    """A man's outpatient bill: a female-only drug, a drug restricted to E11 (his second
    diagnosis), a blood test."""
    p = Person("P0001", "110101199003074514")
    with platform.db.engine.begin() as conn:
        seed_institution(conn, HOSP)
        seed_catalog(
            conn,
            [
                *STANDARD_ITEMS,
                item_row(FEMALE_ONLY, "限女性用药", "101", "01", "09", lmt_gend="2"),
                item_row(DIABETES_ONLY, "限糖尿病用药", "101", "01", "09", lmt_diag_codes="E11"),
            ],
        )
        seed_person(conn, p)
    with platform.db.engine.begin() as conn:
        registered = outpatient.register(
            conn, call_context(platform, "M1", "2201"), register_input(p)
        )
        mdtrt_id = registered["data"]["mdtrt_id"]
        outpatient.upload_visit_info(
            conn,
            call_context(platform, "M2", "2203"),
            {
                "mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": p.psn_no, "med_type": "11"},
                "diseinfo": [
                    _diagnosis(1, "J06.900", "急性上呼吸道感染"),
                    _diagnosis(2, "E11.900", "2型糖尿病"),
                ],
            },
        )
        lines = [
            fee_line("1", mdtrt_id, p.psn_no, FEMALE_ONLY, "20.00", cnt="2", pric="10.00"),
            fee_line("2", mdtrt_id, p.psn_no, DIABETES_ONLY, "30.00", appr="1"),
            fee_line("3", mdtrt_id, p.psn_no, EXAM_A, "100.00"),
        ]
        outpatient.upload_fees(conn, call_context(platform, "M3", "2204"), {"feedetail": lines})
        pre = outpatient.pre_settle(
            conn, call_context(platform, "M4", "2206"), settle_input(p, mdtrt_id, "150.00")
        )
        done = outpatient.settle(
            conn,
            call_context(platform, "M5", "2207"),
            settle_input(p, mdtrt_id, "150.00", **echo(pre)),
        )
    return {"psn_no": p.psn_no, "mdtrt_id": mdtrt_id, "setl_id": done["setlinfo"]["setl_id"]}


def _run(replica: Replica, **kw: Any) -> dict[str, Any]:
    today = local_naive_now().date()
    return posthoc.run_on_replica(replica, RULES, since=today, until=today, **kw)


def test_a_bill_settled_without_review_is_reviewed_at_the_post_stage(make_platform: Any) -> None:
    platform = make_platform(False)
    bill = _settle_a_bill(platform)
    replica = Replica.open(platform.settings)
    try:
        # the factories seed person and institution without change-log rows: the tables
        # bring them; the settlement came through the log
        replica.rebuild(source="tables")
        cur = replica.store.cursor()
        (codes,) = cur.execute("SELECT diag_codes FROM mdtrt_fact").fetchone()  # type: ignore[misc]
        lines = cur.execute(
            "SELECT feedetl_sn, pric, hosp_appr_flag FROM fee_fact ORDER BY feedetl_sn"
        ).fetchall()
        cur.close()
        assert codes == "J06.900,E11.900"
        assert lines == [
            ("1", Decimal("10.000000"), "0"),
            ("2", Decimal("30.000000"), "1"),
            ("3", Decimal("100.000000"), "0"),
        ]

        summary = _run(replica)
        assert summary["by_category"] == {"gender_limit": 1}
        with platform.db.engine.connect() as conn:
            (row,) = [dict(r._mapping) for r in conn.execute(select(rule_hit))]
        assert row["rule_id"] == "GEND-01" and row["stage"] == "post"
        assert row["setl_id"] == bill["setl_id"] and row["mdtrt_id"] == bill["mdtrt_id"]
        # the fee upload already made the line self-pay by the catalog's restriction: the
        # finding stands, with nothing of the fund's at stake
        assert row["line_ids"] == "1" and row["amount"] == Decimal("0.00")
        assert json.loads(row["evidence"])["forced_selfpay"] is True
        assert row["psn_no"] is None and row["psn_ref"] == replica.store.pseudonyms.ref("P0001")
        assert row["result_type"] == "violation" and "限" in row["reason"]

        again = _run(replica)
        assert again["hits_found"] == 1 and again["hits_new"] == 0

        # asked for other categories only, the re-run finds nothing
        other = _run(replica, categories=["age_limit,indication_limit"])
        assert other["hits_found"] == 0
    finally:
        replica.close()


def test_the_counters_own_hit_is_not_reported_again(make_platform: Any) -> None:
    platform = make_platform(True)
    bill = _settle_a_bill(platform)
    with platform.db.engine.connect() as conn:
        at_counter = {
            (r.rule_id, r.stage)
            for r in conn.execute(
                select(rule_hit.c.rule_id, rule_hit.c.stage).where(
                    rule_hit.c.mdtrt_id == bill["mdtrt_id"]
                )
            )
        }
    assert ("GEND-01", "mid") in at_counter
    replica = Replica.open(platform.settings)
    try:
        replica.rebuild(source="tables")
        summary = _run(replica)
        assert summary["hits_found"] == 0 and summary["by_category"] == {}
    finally:
        replica.close()


def test_a_re_run_category_is_accepted_and_an_unknown_one_refused(make_platform: Any) -> None:
    platform = make_platform(False)
    replica = Replica.open(platform.settings)
    try:
        assert _run(replica, categories=["out_of_catalog"])["hits_found"] == 0
        with pytest.raises(posthoc.InvalidInput, match="category"):
            _run(replica, categories=["item_substitution"])
    finally:
        replica.close()
