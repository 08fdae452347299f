"""异地就医备案 and the inter-region clearing SQL on both row stores (SQLite, MariaDB)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, insert

from yibao.enrolment import remote
from yibao.enrolment.repo import remote as repo
from yibao.errors import Conflict
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator
from yibao.policy import load_book
from yibao.settlement import inter_region
from yibao.storage.tables import psn, psn_insu


def _person(engine: Engine) -> None:
    now = local_naive_now()
    with engine.begin() as conn:
        conn.execute(
            insert(psn).values(
                psn_no="P1", psn_cert_type="01", certno="13100219900307451X", psn_name="赵六",
                gend="1", naty="01", brdy=date(1990, 3, 7), created_at=now, updated_at=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(psn_insu).values(
                psn_no="P1", insutype="310", psn_type="1101", psn_insu_stas="1",
                psn_insu_date=date(2015, 1, 1), cvlserv_flag="0", insuplc_admdvs="131099",
                balc=0, created_at=now, updated_at=now,
            )
        )  # fmt: skip


def test_register_find_and_revoke(engine: Engine) -> None:
    _person(engine)
    ids = IdGenerator(3)
    with engine.begin() as conn:
        reg = remote.register(
            conn, ids=ids, actor="t", psn_no="P1", mdtrt_area_admdvs="110199",
            reg_type="temporary", begndate=date(2024, 1, 1), enddate=date(2024, 3, 31),
        )  # fmt: skip
    with engine.begin() as conn, pytest.raises(Conflict):
        remote.register(
            conn, ids=ids, actor="t", psn_no="P1", mdtrt_area_admdvs="110105",
            reg_type="long_term", begndate=date(2024, 3, 31),
        )  # fmt: skip
    with engine.connect() as conn:
        on = repo.valid_of_person(conn, "P1", on=date(2024, 3, 31), insutype="310")
        off = repo.valid_of_person(conn, "P1", on=date(2024, 4, 1))
        total, rows = repo.find(conn, insuplc_admdvs="131099", active_on=date(2024, 2, 1))
    assert [r["remote_reg_id"] for r in on] == [reg["remote_reg_id"]] and off == []
    assert total == 1 and rows[0]["enddate"] == date(2024, 3, 31)
    with engine.begin() as conn:
        remote.revoke(conn, ids=ids, actor="t", remote_reg_id=reg["remote_reg_id"], reason="x")
    with engine.connect() as conn:
        assert repo.valid_of_person(conn, "P1") == []
        assert repo.find(conn, psn_no="P1", include_revoked=True)[0] == 1
        report = inter_region.report(conn, load_book(), month="2024-02")
    assert report["balanced"] and report["receivables"] == []
