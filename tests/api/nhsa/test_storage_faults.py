"""Disk full on SQLite through the national interface (issue 23): a write that cannot get space
answers `-1 医保数据库暂不可用，请稍后重试` naming the disk, logs one line without a traceback,
leaves the store intact (`PRAGMA integrity_check`), and the same message (same msgid) succeeds
once space returns. `PRAGMA max_page_count` on the writer's connection stands in for a full
disk (no root, no tmpfs)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from settle_factories import CONSULT_A, fee_line, register_input
from sqlalchemy import Connection, func, select

from yibao.errors import DB_UNAVAILABLE
from yibao.kit.ratelog import RateLimitedLog
from yibao.storage import faults
from yibao.storage.tables import fee_detail, msg_log


def _pragma(world: dict[str, Any], sql: str) -> Any:
    def job(conn: Connection) -> Any:
        return conn.exec_driver_sql(sql).scalar()

    # the writer's own (single, pooled) connection: the limit applies where the writes happen
    return world["platform"].db.writer.run_sync(job)


async def test_disk_full_answers_unavailable_and_recovers(
    world: dict[str, Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(faults, "outage_log", RateLimitedLog(faults.log, interval_s=60))
    his, app, person = world["his"], world["app"], world["people"]["emp"]
    mdtrt_id = (await his.ok("2201", register_input(person)))["data"]["mdtrt_id"]
    lines = [
        fee_line(str(n), mdtrt_id, person.psn_no, CONSULT_A, "10.00", memo="备注" * 200)
        for n in range(1, 301)
    ]
    pages = _pragma(world, "PRAGMA page_count")
    _pragma(world, f"PRAGMA max_page_count={pages}")
    envelope = his.envelope("2204", {"feedetail": lines})
    with caplog.at_level(logging.WARNING):
        for _ in range(3):  # the client retries while the disk stays full
            answer = await his.send(envelope)
            assert answer["infcode"] == -1
            assert answer["err_msg"].startswith(DB_UNAVAILABLE)
            assert "disk full" in answer["err_msg"]
    outage_lines = [r for r in caplog.records if "row store unavailable" in r.getMessage()]
    assert len(outage_lines) == 1 and outage_lines[0].exc_info is None
    assert not [r for r in caplog.records if r.exc_info]  # no traceback per call
    with app.state.platform.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(fee_detail)).scalar_one() == 0
        assert (
            conn.execute(
                select(func.count())
                .select_from(msg_log)
                .where(msg_log.c.msgid == envelope["msgid"])
            ).scalar_one()
            == 0
        )
    assert _pragma(world, "PRAGMA integrity_check") == "ok"

    _pragma(world, "PRAGMA max_page_count=1073741823")  # space returns
    answer = await his.send(envelope)  # the same message, retried by msgid
    assert answer["infcode"] == 0, answer["err_msg"]
    assert len(answer["output"]["result"]) == 300
    assert (await his.send(envelope))["output"] == answer["output"]  # stored answer, once
    with app.state.platform.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(fee_detail)).scalar_one() == 300
    assert _pragma(world, "PRAGMA integrity_check") == "ok"
