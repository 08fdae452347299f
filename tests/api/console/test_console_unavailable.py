"""The console API while the row store cannot write (issue 23): HTTP 503 with
`医保数据库暂不可用，请稍后重试`, nothing written, one log line without a traceback; the same
request succeeds once the store is writable again. `PRAGMA query_only` on the writer's
connection stands in for a read-only data directory (SQLITE_READONLY, without root tricks)."""

from __future__ import annotations

import logging

import httpx
import pytest
from console_factories import Auth, count, person_body

from yibao.errors import DB_UNAVAILABLE
from yibao.kit.ratelog import RateLimitedLog
from yibao.runtime import Platform
from yibao.storage import faults
from yibao.storage.tables import psn


def _pragma(platform: Platform, sql: str) -> object:
    # on the writer engine's one pooled connection, outside a transaction (a read-only
    # connection cannot BEGIN IMMEDIATE, so the writer itself could not switch it back)
    raw = platform.db.engine.raw_connection()
    try:
        row = raw.driver_connection.execute(sql).fetchone()  # type: ignore[union-attr]
        return row[0] if row else None
    finally:
        raw.close()


async def test_read_only_store_is_503_and_recovers(
    client: httpx.AsyncClient,
    auth: Auth,
    platform: Platform,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(faults, "outage_log", RateLimitedLog(faults.log, interval_s=60))
    headers = await auth("oper")
    before = count(platform, psn)
    _pragma(platform, "PRAGMA query_only=ON")
    body = person_body()
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            r = await client.post("/api/v1/persons", json=body, headers=headers)
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "storage_unavailable"
            assert r.json()["message"].startswith(DB_UNAVAILABLE)
            assert "read-only" in r.json()["message"]
    assert not [rec for rec in caplog.records if rec.exc_info]
    assert count(platform, psn) == before
    assert _pragma(platform, "PRAGMA integrity_check") == "ok"
    _pragma(platform, "PRAGMA query_only=OFF")
    r = await client.post("/api/v1/persons", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert count(platform, psn) == before + 1
