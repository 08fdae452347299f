"""On the MySQL protocol a short read (`short_read`: 1101, 2206, 2101 …) runs on the event loop
itself, with no thread hand-off; any other read runs in the read pool. A short read that finds
the store unavailable sends the next ones to the pool — a frozen server then stalls the loop
once, not once per read — until a call is answered again."""

from __future__ import annotations

import threading
from typing import Any

import pymysql
import pytest
from settle_factories import HOSP, His, Person, seed_institution, seed_person
from sqlalchemy.exc import OperationalError

from yibao.errors import DB_UNAVAILABLE
from yibao.interface.pipeline import CallPipeline
from yibao.kit import jsonx
from yibao.runtime import Platform

pytestmark = pytest.mark.mysql

FOUND = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110101199003074514"}}
VISITS = {"data": {"psn_no": "P0001"}}


@pytest.fixture
def his(mysql_platform: Platform) -> His:
    with mysql_platform.db.engine.begin() as conn:
        paasid, secret = seed_institution(conn, HOSP)
        seed_person(conn, Person("P0001", "110101199003074514"))
    return His(None, HOSP, paasid, secret)


@pytest.fixture
def pipeline(mysql_platform: Platform) -> Any:
    pipe = CallPipeline(mysql_platform)
    yield pipe
    pipe.close()


async def _call(pipe: CallPipeline, his: His, infno: str, data: dict[str, Any]) -> dict[str, Any]:
    answer = await pipe.handle(jsonx.dumps(his.envelope(infno, data)), his.paasid, his.secret)
    result: dict[str, Any] = jsonx.loads(answer.payload)
    return result


def _where_handlers_run(pipe: CallPipeline, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The thread each read's handler runs on, in call order."""
    threads: list[str] = []
    plain = pipe._read

    def read(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return plain(*args)

    monkeypatch.setattr(pipe, "_read", read)
    return threads


async def test_a_short_read_runs_on_the_event_loop_and_a_long_one_in_the_pool(
    pipeline: CallPipeline, his: His, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _where_handlers_run(pipeline, monkeypatch)
    loop_thread = threading.current_thread().name
    assert (await _call(pipeline, his, "1101", FOUND))["infcode"] == 0
    assert (await _call(pipeline, his, "5201", VISITS))["infcode"] == 0
    assert threads[0] == loop_thread
    assert threads[1].startswith("yibao-nhsa-read"), threads


async def test_a_store_found_unavailable_sends_short_reads_to_the_pool_until_it_answers(
    pipeline: CallPipeline, his: His, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    plain = pipeline._read
    failures: list[Exception] = []

    def read(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        if failures:
            raise failures.pop()
        return plain(*args)

    monkeypatch.setattr(pipeline, "_read", read)
    loop_thread = threading.current_thread().name
    assert (await _call(pipeline, his, "1101", FOUND))["infcode"] == 0  # warm: on the loop
    lost = pymysql.err.OperationalError(2013, "Lost connection to server during query")
    failures.append(OperationalError("SELECT", {}, lost))
    down = await _call(pipeline, his, "1101", FOUND)
    assert down["infcode"] == -1 and down["err_msg"] == DB_UNAVAILABLE, down
    answered = await _call(pipeline, his, "1101", FOUND)  # in the pool, and answered
    assert answered["infcode"] == 0, answered
    assert (await _call(pipeline, his, "1101", FOUND))["infcode"] == 0  # on the loop again
    assert threads[:2] == [loop_thread, loop_thread]
    assert threads[2].startswith("yibao-nhsa-read"), threads
    assert threads[3] == loop_thread, threads
