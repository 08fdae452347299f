"""The MySQL path under faults (issue 23), on a MariaDB instance this test starts for itself
(never the shared server; `bench.faults.mariadb`, shared with the campaign's MySQL stage):
calls run through the pipeline while the database is killed (SIGKILL) and frozen (SIGSTOP)
mid-load. Every call is answered within the configured timeouts
— `-1 医保数据库暂不可用，请稍后重试` while the database is away — the outage is logged once per
interval, not once per call with a traceback; after a restart / SIGCONT yibao recovers by
itself (pool pre-ping) and the retried messages (same msgid) leave every write exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from settle_factories import HOSP, His, Person, register_input, seed_catalog, seed_institution
from settle_factories import seed_person as seed_one
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from yibao.api.app import create_app
from yibao.bench.faults.mariadb import MariaDB, available
from yibao.config import load_settings
from yibao.errors import DB_UNAVAILABLE
from yibao.kit.ratelog import RateLimitedLog
from yibao.runtime import open_platform
from yibao.storage import faults
from yibao.storage.engine import make_null_engine
from yibao.storage.migrate import upgrade
from yibao.storage.tables import mdtrt, msg_log

pytestmark = pytest.mark.mysql

#: the timeouts under test (seconds): connect, read/write, statement
CONNECT_S, READ_S, STATEMENT_S = 1.0, 2.0, 1.5
#: a down server: refused at connect; a frozen one: pre-ping read timeout, then a reconnect
#: that waits for the handshake (connect timeout), then the answer
DOWN_BOUND_S = CONNECT_S + 1.5
FROZEN_BOUND_S = 2 * READ_S + CONNECT_S + 1.5


@pytest.fixture
def mariadb(tmp_path: Path) -> Iterator[MariaDB]:
    if not available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but mariadbd / mariadb-install-db are missing")
        pytest.skip("mariadbd and mariadb-install-db are needed to run a private MariaDB")
    server = MariaDB(tmp_path / "mariadb")
    try:
        server.install()
        engine = make_null_engine(server.url)
        upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.shut()


class Client:
    """A hospital system that keeps every message it sent and resends the unanswered ones."""

    def __init__(self, his: His, person: Person) -> None:
        self.his = his
        self.person = person
        self.sent: list[dict[str, Any]] = []
        self.pending: list[dict[str, Any]] = []
        self.worst = 0.0
        self.n = 0

    async def call(self, envelope: dict[str, Any]) -> dict[str, Any]:
        began = time.monotonic()
        answer: dict[str, Any] = await self.his.send(envelope)
        self.worst = max(self.worst, time.monotonic() - began)
        if answer["infcode"] != 0:
            assert answer["err_msg"] == DB_UNAVAILABLE, answer["err_msg"]
            self.pending.append(envelope)
        return answer

    def register(self) -> dict[str, Any]:
        self.n += 1
        envelope = self.his.envelope(
            "2201", register_input(self.person, ipt_otp_no=f"OTP{self.n:05d}")
        )
        self.sent.append(envelope)
        return envelope

    def person_info(self) -> dict[str, Any]:
        data = {"mdtrt_cert_type": "02", "mdtrt_cert_no": self.person.certno}
        return self.his.envelope("1101", {"data": data})

    async def burst(self, size: int) -> list[dict[str, Any]]:
        envelopes = [self.register() if i % 3 else self.person_info() for i in range(size)]
        return list(await asyncio.gather(*(self.call(e) for e in envelopes)))

    async def retry_pending(self) -> None:
        pending, self.pending = self.pending, []
        for envelope in pending:
            answer = await self.his.send(envelope)
            assert answer["infcode"] == 0, answer["err_msg"]

    async def until_served(self, limit_s: float) -> float:
        """Seconds until a read is answered again."""
        began = time.monotonic()
        while time.monotonic() - began < limit_s:
            answer = await self.his.send(self.person_info())
            if answer["infcode"] == 0:
                return time.monotonic() - began
            await asyncio.sleep(0.02)
        raise AssertionError("yibao did not recover by itself")


def _occurrences(line: str) -> int:
    """Failures one outage line stands for (kit.ratelog's formats)."""
    counted = re.search(r"\((\d+) more times (in the last|before it ended)", line)
    if counted is None:
        return 1
    return int(counted.group(1)) + (1 if counted.group(2) == "in the last" else 0)


async def _not_ready(http: httpx.AsyncClient, bound_s: float) -> None:
    """`GET /readyz` answers 503 within `bound_s`, its body naming the row store."""
    began = time.monotonic()
    answer = await http.get("/readyz")
    assert time.monotonic() - began < bound_s
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["status"] == "not_ready"
    assert "row_store" in body["failed"]
    assert body["checks"]["row_store"]["reason"].startswith(DB_UNAVAILABLE)


async def test_mariadb_killed_and_frozen_mid_load(
    mariadb: MariaDB,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(faults, "outage_log", RateLimitedLog(faults.log, interval_s=60))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    settings = load_settings(
        data_dir=data_dir,
        database_url=mariadb.url,
        replica_enabled=False,
        mysql_connect_timeout_s=CONNECT_S,
        mysql_read_timeout_s=READ_S,
        mysql_write_timeout_s=READ_S,
        mysql_statement_timeout_s=STATEMENT_S,
    )
    platform = open_platform(settings)
    try:
        with platform.db.engine.begin() as conn:
            paasid, secret = seed_institution(conn, HOSP)
            seed_catalog(conn)
            person = seed_one(conn, Person("P0001", "110101199003074514"))
        app = create_app(settings, platform=platform)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            client = Client(His(http, HOSP, paasid, secret), person)
            assert all(a["infcode"] == 0 for a in await client.burst(9))
            assert (await http.get("/readyz")).status_code == 200
            # the statement limit is in force on yibao's own connections
            with platform.db.engine.connect() as conn:
                limit = conn.exec_driver_sql("SELECT @@max_statement_time").scalar_one()
            assert float(limit) == STATEMENT_S

            with caplog.at_level(logging.WARNING):
                # -- kill -9 mid-load -------------------------------------------------------
                load = asyncio.ensure_future(client.burst(12))
                await asyncio.sleep(0.01)
                mariadb.kill()
                await load
                client.worst = 0.0
                answers = await client.burst(12)
                assert all(a["infcode"] == -1 for a in answers)
                down_worst = client.worst
                assert down_worst < DOWN_BOUND_S
                # readiness says so while it lasts, within the same bound, naming the check
                await _not_ready(http, DOWN_BOUND_S)
                mariadb.start()
                down_recovery = await client.until_served(10)
                await client.retry_pending()
                assert (await http.get("/readyz")).status_code == 200

                # -- frozen (SIGSTOP) mid-load ----------------------------------------------
                load = asyncio.ensure_future(client.burst(12))
                await asyncio.sleep(0.01)
                mariadb.freeze()
                client.worst = 0.0
                await load
                answers = await client.burst(6)
                assert all(a["infcode"] == -1 for a in answers)
                frozen_worst = client.worst
                assert frozen_worst < FROZEN_BOUND_S
                await _not_ready(http, FROZEN_BOUND_S)
                mariadb.thaw()
                frozen_recovery = await client.until_served(15)
                await client.retry_pending()
                assert (await http.get("/readyz")).status_code == 200

            failures = 12 + 6
            outage_lines = [r for r in caplog.records if "row store unavailable" in r.getMessage()]
            # a line per distinct failure per outage, and one with the last count when it
            # ended: far fewer lines than failures, and the counts add up to every failure
            assert 1 <= len(outage_lines) <= 16 < failures
            assert sum(_occurrences(r.getMessage()) for r in outage_lines) >= failures
            assert any("available again" in r.getMessage() for r in caplog.records)
            assert not [r for r in caplog.records if r.exc_info]  # no traceback per call
            print(
                f"down: worst answer {down_worst:.2f}s, recovered {down_recovery:.2f}s after "
                f"restart; frozen: worst answer {frozen_worst:.2f}s, recovered "
                f"{frozen_recovery:.2f}s after SIGCONT; log lines {len(outage_lines)}"
            )

        # a statement past the limit is stopped by the server and counts as unavailable
        began = time.monotonic()
        with pytest.raises(OperationalError) as caught, platform.db.engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT SLEEP({STATEMENT_S + 3})").all()
        assert time.monotonic() - began < STATEMENT_S + 1
        assert faults.unavailable(caught.value) is not None

        # nothing lost, nothing twice: every registration sent is stored once, answered 0
        msgids = [e["msgid"] for e in client.sent]
        with platform.db.engine.connect() as conn:
            stored = conn.execute(
                select(msg_log.c.msgid, msg_log.c.infcode).where(msg_log.c.infno == "2201")
            ).all()
            visits = conn.execute(select(func.count()).select_from(mdtrt)).scalar_one()
        assert sorted(m for m, _ in stored) == sorted(msgids)
        assert all(code == 0 for _, code in stored)
        assert visits == len(msgids)
    finally:
        platform.close()
