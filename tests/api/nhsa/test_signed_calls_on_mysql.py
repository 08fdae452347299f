"""Signed calls on the MySQL protocol: a writing call's first attempt sends its signature nonce
and its message-log row with its COMMIT (`storage.deferred`), and the reads arriving together
claim their nonces in one request with theirs — while everything a client can see stays as
before: a replayed nonce is refused by any process and writes nothing, a retry of an answered
message gets the stored answer, a nonce whose window has passed can be used again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pymysql
import pytest
from settle_factories import (
    HOSP,
    His,
    Person,
    Signer,
    echo,
    fee_line,
    register_input,
    seed_catalog,
    seed_institution,
    seed_person,
    settle_input,
)
from sqlalchemy import func, insert, select

from yibao.enrolment.credentials import issue_credential, revoke_credential
from yibao.interface.pipeline import CallPipeline
from yibao.interface.signature import Signed
from yibao.kit import jsonx
from yibao.runtime import Platform
from yibao.storage.tables import gateway_nonce, msg_log, sign_in

FOUND = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110101199003074514"}}
SIGN_IN = {"signIn": {"opter_no": "0001", "mac": "00-11-22-33-44-55", "ip": "10.0.0.8"}}

pytestmark = pytest.mark.mysql


def _driver_connections() -> list[type[Any]]:
    classes: list[type[Any]] = [pymysql.connections.Connection]
    try:
        import MySQLdb.connections
    except ImportError:  # PyMySQL is the fallback driver (docs/operations.md)
        return classes
    return [*classes, MySQLdb.connections.Connection]


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request the drivers send (one `query` is one round trip), as text."""
    sent: list[str] = []
    for cls in _driver_connections():
        plain = cls.query

        def query(self: Any, sql: Any, *args: Any, _plain: Any = plain, **kw: Any) -> Any:
            sent.append(sql.decode("utf-8", "replace") if isinstance(sql, bytes) else str(sql))
            return _plain(self, sql, *args, **kw)

        monkeypatch.setattr(cls, "query", query)
    return sent


@pytest.fixture
def sent_on(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Every request the drivers send, with the driver connection it went on."""
    sent: list[tuple[int, str]] = []
    for cls in _driver_connections():
        plain = cls.query

        def query(self: Any, sql: Any, *args: Any, _plain: Any = plain, **kw: Any) -> Any:
            text = sql.decode("utf-8", "replace") if isinstance(sql, bytes) else str(sql)
            sent.append((id(self), text))
            return _plain(self, sql, *args, **kw)

        monkeypatch.setattr(cls, "query", query)
    return sent


@pytest.fixture
def platform(mysql_platform: Platform) -> Platform:
    return mysql_platform


@pytest.fixture
def signer(platform: Platform) -> Signer:
    with platform.db.engine.begin() as conn:
        seed_institution(conn, HOSP)
        seed_person(conn, Person("P0001", "110101199003074514"))
        issued = issue_credential(
            conn,
            ids=platform.ids,
            actor="test",
            fixmedins_code=HOSP,
            data_dir=platform.settings.data_dir,
        )
    return Signer(issued["paasid"], issued["paas_token"])


@pytest.fixture
def pipelines(platform: Platform) -> Iterator[tuple[CallPipeline, CallPipeline]]:
    """Two gateway processes' pipelines on one store (each with its own memory of nonces)."""
    one, two = CallPipeline(platform), CallPipeline(platform)
    try:
        yield one, two
    finally:
        one.close()
        two.close()


async def _call(pipe: CallPipeline, body: bytes, signer: Signer, signed: Signed) -> dict[str, Any]:
    answer = await pipe.handle(body, signer.paasid, None, signed=signed)
    result: dict[str, Any] = jsonx.loads(answer.payload)
    return result


def _count(platform: Platform, table: Any) -> int:
    with platform.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _mentioning(requests: list[str], table: str) -> list[str]:
    return [r for r in requests if f"INTO {table}" in r or f"INTO `{table}`" in r]


async def test_a_nonce_replayed_to_another_process_is_refused_and_writes_nothing(
    platform: Platform, pipelines: tuple[CallPipeline, CallPipeline], signer: Signer
) -> None:
    one, two = pipelines
    his = His(None, HOSP, signer.paasid, "")
    signed = signer.signed()
    body = jsonx.dumps(his.envelope("9001", SIGN_IN))
    first = await one.handle(body, signer.paasid, None, signed=signed)
    assert jsonx.loads(first.payload)["infcode"] == 0
    # the very same request resent to the other process: the stored answer, nothing written
    retry = await two.handle(body, signer.paasid, None, signed=signed)
    assert retry.payload == first.payload
    # another message under that nonce, to the process that has not seen it: a replay
    other = await _call(two, jsonx.dumps(his.envelope("9001", SIGN_IN)), signer, signed)
    assert other["infcode"] == -1 and "拒绝重放" in other["err_msg"], other
    assert _count(platform, sign_in) == 1
    assert _count(platform, msg_log) == 1
    # a read under it is refused by the other process too
    read = await _call(two, jsonx.dumps(his.envelope("1101", FOUND)), signer, signed)
    assert read["infcode"] == -1 and "拒绝重放" in read["err_msg"], read


async def test_a_reused_msgid_is_refused_and_its_nonce_stays_unclaimed(
    platform: Platform, pipelines: tuple[CallPipeline, CallPipeline], signer: Signer
) -> None:
    one, two = pipelines
    his = His(None, HOSP, signer.paasid, "")
    envelope = his.envelope("9001", SIGN_IN)
    assert (await _call(one, jsonx.dumps(envelope), signer, signer.signed()))["infcode"] == 0
    signed = signer.signed()
    reused = jsonx.dumps({**envelope, "input": {"signIn": {**SIGN_IN["signIn"], "ip": "10.0.0.9"}}})
    refused = await _call(two, reused, signer, signed)
    assert refused["infcode"] == -1 and "报文ID重复" in refused["err_msg"], refused
    assert _count(platform, sign_in) == 1
    # the refused call left its nonce free: a new message may use it
    ok = await _call(one, jsonx.dumps(his.envelope("9001", SIGN_IN)), signer, signed)
    assert ok["infcode"] == 0, ok


async def test_a_nonce_past_its_window_in_the_store_can_be_used_again(
    platform: Platform, pipelines: tuple[CallPipeline, CallPipeline], signer: Signer
) -> None:
    pipe, _ = pipelines
    his = His(None, HOSP, signer.paasid, "")
    with platform.db.engine.begin() as conn:
        for nonce in ("old-write", "old-read"):
            conn.execute(
                insert(gateway_nonce).values(paasid=signer.paasid, nonce=nonce, expires_at=1)
            )
    write = await _call(
        pipe, jsonx.dumps(his.envelope("9001", SIGN_IN)), signer, signer.signed(nonce="old-write")
    )
    assert write["infcode"] == 0, write
    read = await _call(
        pipe, jsonx.dumps(his.envelope("1101", FOUND)), signer, signer.signed(nonce="old-read")
    )
    assert read["infcode"] == 0, read
    with platform.db.read() as conn:
        held = dict(conn.execute(select(gateway_nonce.c.nonce, gateway_nonce.c.expires_at)).all())
    assert held["old-write"] > time.time() and held["old-read"] > time.time()


async def test_reads_arriving_together_claim_their_nonces_in_one_request(
    platform: Platform,
    pipelines: tuple[CallPipeline, CallPipeline],
    signer: Signer,
    requests: list[str],
) -> None:
    pipe, other = pipelines
    his = His(None, HOSP, signer.paasid, "")
    warm = await _call(pipe, jsonx.dumps(his.envelope("1101", FOUND)), signer, signer.signed())
    assert warm["infcode"] == 0, warm
    requests.clear()
    signed = [signer.signed() for _ in range(5)]
    answers = await asyncio.gather(
        *[_call(pipe, jsonx.dumps(his.envelope("1101", FOUND)), signer, s) for s in signed]
    )
    assert [a["infcode"] for a in answers] == [0] * 5, answers
    claimed = _mentioning(requests, "gateway_nonce")
    assert len(claimed) == 1 and claimed[0].rstrip().endswith("COMMIT"), claimed
    assert claimed[0].count("INSERT INTO gateway_nonce") == 5
    # one of a batch already held by another process: that one is refused, the rest answered
    taken = signer.signed()
    assert (await _call(other, jsonx.dumps(his.envelope("1101", FOUND)), signer, taken))[
        "infcode"
    ] == 0
    mixed = [signer.signed(), taken, signer.signed()]
    again = await asyncio.gather(
        *[_call(pipe, jsonx.dumps(his.envelope("1101", FOUND)), signer, s) for s in mixed]
    )
    assert [a["infcode"] for a in again] == [0, -1, 0], again
    assert "拒绝重放" in again[1]["err_msg"]
    assert _count(platform, gateway_nonce) == 1 + 5 + 1 + 2


async def test_an_outpatient_settlement_takes_few_round_trips(
    platform: Platform,
    pipelines: tuple[CallPipeline, CallPipeline],
    signer: Signer,
    requests: list[str],
) -> None:
    pipe, _ = pipelines
    with platform.db.engine.begin() as conn:
        seed_catalog(conn)
    person = Person("P0001", "110101199003074514")
    his = His(None, HOSP, signer.paasid, "")

    async def call(infno: str, data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        requests.clear()
        answer = await _call(pipe, jsonx.dumps(his.envelope(infno, data)), signer, signer.signed())
        assert answer["infcode"] == 0, answer
        return answer["output"], [r for r in requests if "credential_gen" not in r]

    await call("1101", FOUND)  # the credential loaded
    registered, sent = await call("2201", register_input(person))
    # the nonce goes in front of the first read, the visit and the message with the COMMIT
    assert len(sent) == 2, sent
    assert sent[0].startswith("INSERT INTO gateway_nonce") and "SELECT" in sent[0], sent
    assert "INSERT INTO mdtrt" in sent[1] and "INSERT INTO msg_log" in sent[1], sent
    assert sent[1].endswith("COMMIT"), sent
    mdtrt_id = registered["data"]["mdtrt_id"]
    lines = [fee_line("F1", mdtrt_id, person.psn_no, "XM0001", "30.00")]
    await call("2204", {"feedetail": lines})
    pre, _ = await call("2206", settle_input(person, mdtrt_id, "30.00"))
    settled, sent = await call("2207", settle_input(person, mdtrt_id, "30.00", **echo(pre)))
    assert settled["setlinfo"]["acct_pay"] == Decimal("30.00")  # a balance to update
    # reads until the COMMIT, which carries every write of the settlement
    *reads, last = sent
    assert reads[0].startswith("INSERT INTO gateway_nonce"), reads
    for request in reads:
        statements = request.split(";\n")
        assert all(s.startswith("SELECT") for s in statements[1:]), request
        assert statements[0].startswith(("SELECT", "INSERT INTO gateway_nonce")), request
    for write in (
        "INSERT INTO setl ",
        "INSERT INTO setl_fund",
        "UPDATE fee_detail SET setl_id",
        "UPDATE psn_insu SET balc",
        "INSERT INTO change_log",
        "INSERT INTO msg_log",
    ):
        assert write in last, (write, last)
    assert last.endswith("COMMIT"), last


async def test_a_cached_credential_is_checked_in_the_calls_own_transaction(
    platform: Platform,
    pipelines: tuple[CallPipeline, CallPipeline],
    signer: Signer,
    sent_on: list[tuple[int, str]],
) -> None:
    one, two = pipelines
    his = His(None, HOSP, signer.paasid, "")

    async def call(pipe: CallPipeline, infno: str, data: dict[str, Any]) -> dict[str, Any]:
        return await _call(pipe, jsonx.dumps(his.envelope(infno, data)), signer, signer.signed())

    assert (await call(one, "9001", SIGN_IN))["infcode"] == 0  # the credential now cached
    sent_on.clear()
    assert (await call(one, "9001", SIGN_IN))["infcode"] == 0
    generation = [conn for conn, sql in sent_on if "credential_gen" in sql]
    written = [conn for conn, sql in sent_on if "INTO msg_log" in sql]
    # one read of the generation, on the connection of the call's own transaction
    assert len(generation) == 1 and generation == written, sent_on
    sent_on.clear()
    assert (await call(one, "1101", FOUND))["infcode"] == 0
    generation = [conn for conn, sql in sent_on if "credential_gen" in sql]
    person = {conn for conn, sql in sent_on if "FROM psn" in sql}
    assert len(generation) == 1 and generation[0] in person, sent_on

    # revoked by the console of another process: a process that holds the credential in its
    # cache finds the generation moved inside the call, and refuses it like the others
    with platform.db.engine.begin() as conn:
        revoke_credential(
            conn, ids=platform.ids, actor="test", fixmedins_code=HOSP, paasid=signer.paasid
        )
    for pipe in (one, two):
        for infno, data in (("9001", SIGN_IN), ("1101", FOUND)):
            answer = await call(pipe, infno, data)
            assert answer["infcode"] == -1 and "吊销" in answer["err_msg"], (infno, answer)
    assert _count(platform, sign_in) == 2
    assert _count(platform, msg_log) == 2
