"""The gateway signature as HIS clients send it (x-tif-paasid, x-tif-timestamp, x-tif-nonce,
x-tif-signature = sha256hex(timestamp + paasToken + nonce + timestamp)), the static mode beside
it, and GBK bodies — through the call pipeline and over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from settle_factories import HOSP, HOSP2, His, Person, Signer, seed_institution, seed_person
from sqlalchemy import func, select

from yibao.api.app import create_app
from yibao.enrolment.credentials import issue_credential
from yibao.interface import nonces
from yibao.interface.nonces import RecentNonces
from yibao.interface.pipeline import CallPipeline
from yibao.interface.signature import Signed, read_headers
from yibao.kit import jsonx
from yibao.runtime import Platform, open_platform
from yibao.storage.tables import fixmedins_credential, gateway_nonce, sign_in

FOUND = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110101199003074514"}}
SIGN_IN = {"signIn": {"opter_no": "0001", "mac": "00-11-22-33-44-55", "ip": "10.0.0.8"}}


@pytest.fixture
def signer(platform: Platform) -> Signer:
    with platform.db.engine.begin() as conn:
        seed_institution(conn, HOSP)
        seed_institution(conn, HOSP2)
        seed_person(conn, Person("P0001", "110101199003074514"))
        issued = issue_credential(
            conn,
            ids=platform.ids,
            actor="test",
            fixmedins_code=HOSP,
            data_dir=platform.settings.data_dir,
        )
    assert issued["auth_mode"] == "signature" and "secret" not in issued
    return Signer(issued["paasid"], issued["paas_token"])


@pytest.fixture
def pipeline(platform: Platform) -> Iterator[CallPipeline]:
    pipe = CallPipeline(platform)
    try:
        yield pipe
    finally:
        pipe.close()


async def _call(
    pipeline: CallPipeline, env: dict[str, Any], signer: Signer, signed: Signed
) -> dict[str, Any]:
    answer = await pipeline.handle(jsonx.dumps(env), signer.paasid, None, signed=signed)
    result: dict[str, Any] = jsonx.loads(answer.payload)
    return result


def _count(platform: Platform, table: Any) -> int:
    with platform.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


async def test_a_good_signature_is_accepted(pipeline: CallPipeline, signer: Signer) -> None:
    his = His(None, HOSP, signer.paasid, "")
    answer = await _call(pipeline, his.envelope("1101", FOUND), signer, signer.signed())
    assert answer["infcode"] == 0, answer
    assert answer["output"]["baseinfo"]["psn_no"] == "P0001"
    # upper-case hex is the same signature
    signed = signer.signed()
    assert signed.signature is not None
    upper = Signed(signed.timestamp, signed.nonce, signed.signature.upper())
    assert (await _call(pipeline, his.envelope("1101", FOUND), signer, upper))["infcode"] == 0


async def test_stale_and_future_timestamps_are_refused(
    pipeline: CallPipeline, signer: Signer
) -> None:
    his = His(None, HOSP, signer.paasid, "")
    now = int(time.time())
    stale = await _call(pipeline, his.envelope("1101", FOUND), signer, signer.signed(at=now - 400))
    assert stale["infcode"] == -1 and "时间戳已过期" in stale["err_msg"], stale
    future = await _call(pipeline, his.envelope("1101", FOUND), signer, signer.signed(at=now + 400))
    assert future["infcode"] == -1 and "时间戳超前" in future["err_msg"], future
    # milliseconds within the window are read as such
    ms = await _call(pipeline, his.envelope("1101", FOUND), signer, signer.signed(at=now * 1000))
    assert ms["infcode"] == 0, ms
    bad = Signed("yesterday", "n1", "x")
    refused = await _call(pipeline, his.envelope("1101", FOUND), signer, bad)
    assert refused["infcode"] == -1 and "时间戳格式错误" in refused["err_msg"]
    missing = await _call(pipeline, his.envelope("1101", FOUND), signer, Signed("1", None, None))
    assert missing["infcode"] == -1 and "x-tif-nonce, x-tif-signature" in missing["err_msg"]


async def test_the_window_is_a_setting(platform: Platform, signer: Signer) -> None:
    narrow = open_platform(platform.settings.model_copy(update={"signature_window_s": 10}))
    pipe = CallPipeline(narrow)
    try:
        his = His(None, HOSP, signer.paasid, "")
        at = int(time.time()) - 60
        answer = await _call(pipe, his.envelope("1101", FOUND), signer, signer.signed(at=at))
        assert answer["infcode"] == -1 and "允许 ±10 秒" in answer["err_msg"]
    finally:
        pipe.close()
        narrow.close()


async def test_a_replayed_nonce_is_refused(
    pipeline: CallPipeline, signer: Signer, platform: Platform
) -> None:
    his = His(None, HOSP, signer.paasid, "")
    signed = signer.signed()
    first = await _call(pipeline, his.envelope("1101", FOUND), signer, signed)
    assert first["infcode"] == 0
    again = await _call(pipeline, his.envelope("1101", FOUND), signer, signed)
    assert again["infcode"] == -1 and "拒绝重放" in again["err_msg"], again
    # a write under a replayed nonce is refused and writes nothing
    before = _count(platform, sign_in)
    write = await _call(pipeline, his.envelope("9001", SIGN_IN), signer, signed)
    assert write["infcode"] == -1 and "拒绝重放" in write["err_msg"]
    assert _count(platform, sign_in) == before


async def test_an_idempotent_retry_with_the_same_nonce_gets_the_stored_answer(
    pipeline: CallPipeline, signer: Signer, platform: Platform
) -> None:
    his = His(None, HOSP, signer.paasid, "")
    body = jsonx.dumps(his.envelope("9001", SIGN_IN))
    signed = signer.signed()
    first = await pipeline.handle(body, signer.paasid, None, signed=signed)
    assert jsonx.loads(first.payload)["infcode"] == 0
    # the client resends the very same request (same msgid, same nonce): the stored answer
    retry = await pipeline.handle(body, signer.paasid, None, signed=signed)
    assert retry.payload == first.payload
    assert _count(platform, sign_in) == 1
    # another message under that nonce is a replay
    other = await _call(pipeline, his.envelope("9001", SIGN_IN), signer, signed)
    assert other["infcode"] == -1 and "拒绝重放" in other["err_msg"]
    assert _count(platform, sign_in) == 1


async def test_a_failed_call_leaves_its_nonce_unclaimed(
    pipeline: CallPipeline, signer: Signer, platform: Platform
) -> None:
    his = His(None, HOSP, signer.paasid, "")
    signed = signer.signed()
    bad = await _call(pipeline, his.envelope("2201", {"mdtrtinfo": {}}), signer, signed)
    assert bad["infcode"] == -1 and "拒绝重放" not in bad["err_msg"]
    ok = await _call(pipeline, his.envelope("9001", SIGN_IN), signer, signed)
    assert ok["infcode"] == 0, ok


async def test_a_wrong_token_is_refused(pipeline: CallPipeline, signer: Signer) -> None:
    his = His(None, HOSP, signer.paasid, "")
    answer = await _call(
        pipeline, his.envelope("1101", FOUND), signer, signer.signed(token="not-the-token")
    )
    assert answer["infcode"] == -1 and "签名错误" in answer["err_msg"], answer
    unknown = Signer("nobody-123", "x")
    answer = await _call(pipeline, his.envelope("1101", FOUND), unknown, unknown.signed())
    assert answer["infcode"] == -1 and "机构凭证无效或已吊销" in answer["err_msg"]


async def test_another_institution_is_refused(pipeline: CallPipeline, signer: Signer) -> None:
    his = His(None, HOSP, signer.paasid, "")
    env = his.envelope("1101", FOUND, code=HOSP2)
    answer = await _call(pipeline, env, signer, signer.signed())
    assert answer["infcode"] == -1 and "与凭证所属机构不一致" in answer["err_msg"], answer


async def test_another_process_sees_the_nonce(platform: Platform, signer: Signer) -> None:
    other = open_platform(platform.settings)
    first, second = CallPipeline(platform), CallPipeline(other)
    try:
        his = His(None, HOSP, signer.paasid, "")
        signed = signer.signed()
        assert (await _call(first, his.envelope("1101", FOUND), signer, signed))["infcode"] == 0
        replay = await _call(second, his.envelope("1101", FOUND), signer, signed)
        assert replay["infcode"] == -1 and "拒绝重放" in replay["err_msg"], replay
    finally:
        first.close()
        second.close()
        other.close()
    assert _count(platform, gateway_nonce) == 1


async def test_modes_do_not_mix(pipeline: CallPipeline, signer: Signer, platform: Platform) -> None:
    his = His(None, HOSP, signer.paasid, "")
    body = jsonx.dumps(his.envelope("1101", FOUND))
    # the signature credential's token sent as a static key
    answer = jsonx.loads((await pipeline.handle(body, signer.paasid, signer.token)).payload)
    assert answer["infcode"] == -1 and "signature 模式" in answer["err_msg"]
    # a static credential signing
    static = Signer(f"{HOSP}-test", f"secret-of-{HOSP}")
    answer = await _call(pipeline, his.envelope("1101", FOUND), static, static.signed())
    assert answer["infcode"] == -1 and "static 模式" in answer["err_msg"]
    # the static mode still works with its key
    answer = jsonx.loads((await pipeline.handle(body, static.paasid, static.token)).payload)
    assert answer["infcode"] == 0, answer


def test_the_token_is_not_in_the_database(platform: Platform, signer: Signer) -> None:
    with platform.db.read() as conn:
        row = (
            conn.execute(
                select(fixmedins_credential).where(fixmedins_credential.c.paasid == signer.paasid)
            )
            .mappings()
            .one()
        )
    assert row["auth_mode"] == "signature" and row["secret_sha256"] is None
    assert signer.token not in row["token_sealed"]
    assert hashlib.sha256(signer.token.encode()).hexdigest() not in str(dict(row))
    key = platform.settings.data_dir / "gateway-token.key"
    assert key.stat().st_mode & 0o777 == 0o600


def test_header_names_are_case_insensitive() -> None:
    got = read_headers(
        [
            (b"x-tif-paasId", b"H1-abc"),
            (b"X-Tif-Timestamp", b"1700000000"),
            (b"x-tif-nonce", b"n"),
            (b"x-tif-signature", b"s"),
            (b"x-tif-serviceId", b"svc"),
            (b"Content-Type", b"application/json; charset=GBK"),
        ]
    )
    assert got.paasid == "H1-abc" and got.key is None
    assert got.signed == Signed("1700000000", "n", "s", "svc")
    assert got.content_type == "application/json; charset=GBK"


# -- over HTTP: signed headers as clients spell them, GBK bodies ---------------------------------


@pytest.fixture
async def client(platform: Platform) -> Any:
    app = create_app(platform.settings, platform=platform)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_signed_over_http(client: httpx.AsyncClient, signer: Signer) -> None:
    his = His(None, HOSP, signer.paasid, "")
    response = await client.post(
        His.PATH,
        content=jsonx.dumps(his.envelope("1101", FOUND)),
        headers=signer.http_headers(signer.signed(), **{"x-tif-serviceId": "hsa-fsi-1101"}),
    )
    assert response.status_code == 200
    assert response.json()["infcode"] == 0, response.json()


async def test_gbk_body_round_trip(client: httpx.AsyncClient, signer: Signer) -> None:
    his = His(None, HOSP, signer.paasid, "")
    env = his.envelope("1101", FOUND)
    assert env["opter_name"] == "收费员甲"
    body = jsonx.dumps(env).decode().encode("gbk")
    response = await client.post(
        His.PATH,
        content=body,
        headers=signer.http_headers(
            signer.signed(), **{"content-type": "application/json;charset=GBK"}
        ),
    )
    assert response.headers["content-type"] == "application/json;charset=GBK"
    answer = jsonx.loads(response.content.decode("gbk"))
    assert answer["infcode"] == 0, answer
    assert answer["output"]["baseinfo"]["psn_name"] == "张三"
    # a refusal is answered in the request's charset too
    unknown = his.envelope("0000", {})
    refused = await client.post(
        His.PATH,
        content=jsonx.dumps(unknown).decode().encode("gb18030"),
        headers=signer.http_headers(
            signer.signed(), **{"content-type": "application/json; charset=gb18030"}
        ),
    )
    assert refused.headers["content-type"] == "application/json;charset=gb18030"
    assert "不支持的交易" in jsonx.loads(refused.content.decode("gb18030"))["err_msg"]
    # a body that is not GBK at all
    broken = await client.post(
        His.PATH,
        content=b'{"infno": "\xff\xff"}',
        headers=signer.http_headers(
            signer.signed(), **{"content-type": "application/json;charset=GBK"}
        ),
    )
    assert "编码" in jsonx.loads(broken.content.decode("gbk"))["err_msg"]


async def test_answers_in_utf8_when_set(platform: Platform, signer: Signer) -> None:
    fixed = platform.settings.model_copy(update={"answer_charset": "utf-8"})
    plat = open_platform(fixed)
    pipe = CallPipeline(plat)
    try:
        his = His(None, HOSP, signer.paasid, "")
        body = jsonx.dumps(his.envelope("1101", FOUND)).decode().encode("gbk")
        answer = await pipe.handle(
            body,
            signer.paasid,
            None,
            signed=signer.signed(),
            content_type="application/json;charset=GBK",
        )
        assert answer.headers == [(b"content-type", b"application/json;charset=utf-8")]
        assert jsonx.loads(answer.payload)["output"]["baseinfo"]["psn_name"] == "张三"
    finally:
        pipe.close()
        plat.close()


async def test_a_read_repeated_under_one_msgid_answers_again(
    pipeline: CallPipeline, signer: Signer, platform: Platform
) -> None:
    """Reads are not logged: a query resent under its msgid (with a fresh nonce) is answered
    again, never 报文ID重复 (docs/interface.md §3)."""
    his = His(None, HOSP, signer.paasid, "")
    env = his.envelope("1101", FOUND)
    first = await _call(pipeline, env, signer, signer.signed())
    again = await _call(pipeline, env, signer, signer.signed())
    assert first["infcode"] == again["infcode"] == 0, again
    assert first["output"] == again["output"]
    # also when the msgid was first used by a writing call
    sign_on = his.envelope("9001", SIGN_IN)
    assert (await _call(pipeline, sign_on, signer, signer.signed()))["infcode"] == 0
    query = his.envelope("1101", FOUND, msgid=sign_on["msgid"])
    assert (await _call(pipeline, query, signer, signer.signed()))["infcode"] == 0


async def test_concurrent_reads_share_one_claim_job(pipeline: CallPipeline, signer: Signer) -> None:
    """Reads arriving together claim their nonces in one writer job; a nonce twice among them
    is still refused once."""
    his = His(None, HOSP, signer.paasid, "")
    twice = signer.signed()
    signed = [signer.signed() for _ in range(6)] + [twice, twice]
    answers = await asyncio.gather(
        *[_call(pipeline, his.envelope("1101", FOUND), signer, s) for s in signed]
    )
    assert [a["infcode"] for a in answers[:6]] == [0] * 6
    assert sorted(a["infcode"] for a in answers[6:]) == [-1, 0]


# -- serving a SQLite store: a read's nonce is settled in memory and written with the next group


@pytest.fixture
def serving(pipeline: CallPipeline) -> Iterator[CallPipeline]:
    """The pipeline as `yibao serve` runs it on SQLite (its event-loop reader open)."""
    pipeline.start()
    assert pipeline._reader is not None
    try:
        yield pipeline
    finally:
        pipeline.stop()


async def test_serving_a_read_is_answered_and_its_nonce_written_after(
    serving: CallPipeline, signer: Signer, platform: Platform
) -> None:
    his = His(None, HOSP, signer.paasid, "")
    signed = signer.signed()
    assert (await _call(serving, his.envelope("1101", FOUND), signer, signed))["infcode"] == 0
    # refused from memory, before the row is written
    again = await _call(serving, his.envelope("1101", FOUND), signer, signed)
    assert again["infcode"] == -1 and "拒绝重放" in again["err_msg"], again
    platform.db.writer.run_sync(lambda conn: None)  # the read's group (its claim) committed
    assert _count(platform, gateway_nonce) == 1
    # another process on the store sees it once written
    other = open_platform(platform.settings)
    second = CallPipeline(other)
    try:
        replay = await _call(second, his.envelope("1101", FOUND), signer, signed)
        assert replay["infcode"] == -1 and "拒绝重放" in replay["err_msg"], replay
    finally:
        second.close()
        other.close()


async def test_serving_a_read_the_writer_runs_claims_its_nonce_in_its_own_job(
    serving: CallPipeline, signer: Signer, platform: Platform
) -> None:
    """1101 runs on the writer: its nonce is claimed by its own job (one statement there), no
    look-up on the event loop and no claim job of its own."""
    his = His(None, HOSP, signer.paasid, "")
    looked: list[str] = []
    raw = serving._reader.connection.dbapi_connection if serving._reader else None
    assert raw is not None
    raw.set_trace_callback(looked.append)
    try:
        signed = signer.signed()
        assert (await _call(serving, his.envelope("1101", FOUND), signer, signed))["infcode"] == 0
    finally:
        raw.set_trace_callback(None)
    assert not [sql for sql in looked if "gateway_nonce" in sql], looked
    assert not serving.nonces.read_claims._deferred and not serving.nonces.read_claims._submitted
    platform.db.writer.run_sync(lambda conn: None)  # the read's group has committed
    assert _count(platform, gateway_nonce) == 1


async def test_serving_a_read_whose_generation_moved_claims_its_nonce_once(
    serving: CallPipeline, signer: Signer, platform: Platform
) -> None:
    """The writer's check of a cached credential fails before the read's nonce is claimed:
    the read is authenticated again, claims its nonce then, and is answered; its replay is
    refused and the store holds the nonce once."""
    his = His(None, HOSP, signer.paasid, "")
    for _ in range(2):  # loaded, then checked from the writer's cache
        assert (await _call(serving, his.envelope("1101", FOUND), signer, signer.signed()))[
            "infcode"
        ] == 0
    await platform.db.writer.run(
        lambda conn: issue_credential(
            conn, ids=platform.ids, actor="test", fixmedins_code=HOSP2,
            data_dir=platform.settings.data_dir,
        )
    )  # fmt: skip
    signed = signer.signed()
    assert (await _call(serving, his.envelope("1101", FOUND), signer, signed))["infcode"] == 0
    again = await _call(serving, his.envelope("1101", FOUND), signer, signed)
    assert again["infcode"] == -1 and "拒绝重放" in again["err_msg"], again
    platform.db.writer.run_sync(lambda conn: None)
    assert _count(platform, gateway_nonce) == 3


async def test_serving_a_nonce_in_the_store_is_refused(
    serving: CallPipeline, signer: Signer, platform: Platform
) -> None:
    """A nonce claimed by another process (or before a restart) is in the store, not in this
    process's memory: the read checks the committed store."""
    his = His(None, HOSP, signer.paasid, "")
    other = open_platform(platform.settings)
    first = CallPipeline(other)
    try:
        signed = signer.signed()
        assert (await _call(first, his.envelope("1101", FOUND), signer, signed))["infcode"] == 0
    finally:
        first.close()
        other.close()
    replay = await _call(serving, his.envelope("1101", FOUND), signer, signed)
    assert replay["infcode"] == -1 and "拒绝重放" in replay["err_msg"], replay
    assert _count(platform, gateway_nonce) == 1


async def test_serving_a_write_under_a_read_nonce_not_yet_written_is_refused(
    serving: CallPipeline, signer: Signer, platform: Platform
) -> None:
    his = His(None, HOSP, signer.paasid, "")
    signed = signer.signed()
    read, write = await asyncio.gather(
        _call(serving, his.envelope("1101", FOUND), signer, signed),
        _call(serving, his.envelope("9001", SIGN_IN), signer, signed),
    )
    # whichever claims first is answered, the other is a replay (on a cold credential cache
    # both wait for the credential, so either may come first)
    assert sorted([read["infcode"], write["infcode"]]) == [-1, 0], (read, write)
    refused = read if read["infcode"] == -1 else write
    assert "拒绝重放" in refused["err_msg"], refused
    assert _count(platform, sign_in) == (1 if write["infcode"] == 0 else 0)
    # and with the credential cached: the read holds the nonce before the write runs
    signed = signer.signed()
    read, write = await asyncio.gather(
        _call(serving, his.envelope("1101", FOUND), signer, signed),
        _call(serving, his.envelope("9001", SIGN_IN), signer, signed),
    )
    assert read["infcode"] == 0, read
    assert write["infcode"] == -1 and "拒绝重放" in write["err_msg"], write


async def test_serving_a_read_under_a_write_nonce_is_refused(
    serving: CallPipeline, signer: Signer, platform: Platform
) -> None:
    """A write holds its nonce in memory from its claim on; an idempotent retry still gets the
    stored answer, any other message under that nonce is a replay."""
    his = His(None, HOSP, signer.paasid, "")
    body = jsonx.dumps(his.envelope("9001", SIGN_IN))
    signed = signer.signed()
    first = await serving.handle(body, signer.paasid, None, signed=signed)
    assert jsonx.loads(first.payload)["infcode"] == 0
    retry = await serving.handle(body, signer.paasid, None, signed=signed)
    assert retry.payload == first.payload
    read = await _call(serving, his.envelope("1101", FOUND), signer, signed)
    assert read["infcode"] == -1 and "拒绝重放" in read["err_msg"], read
    assert _count(platform, gateway_nonce) == 1


async def test_serving_a_failed_write_leaves_its_nonce_for_a_read(
    serving: CallPipeline, signer: Signer, platform: Platform
) -> None:
    his = His(None, HOSP, signer.paasid, "")
    signed = signer.signed()
    bad = await _call(serving, his.envelope("2201", {"mdtrtinfo": {}}), signer, signed)
    assert bad["infcode"] == -1 and "拒绝重放" not in bad["err_msg"]
    assert _count(platform, gateway_nonce) == 0
    ok = await _call(serving, his.envelope("1101", FOUND), signer, signed)
    assert ok["infcode"] == 0, ok


async def test_serving_deferred_nonces_are_written_at_stop(
    pipeline: CallPipeline, signer: Signer, platform: Platform
) -> None:
    his = His(None, HOSP, signer.paasid, "")
    pipeline.start()
    try:
        env = his.envelope("1101", FOUND)
        assert (await _call(pipeline, env, signer, signer.signed()))["infcode"] == 0
    finally:
        pipeline.stop()  # before the event loop's next turn would hand the claim over
    platform.db.writer.run_sync(lambda conn: None)  # the writer's queue is done
    assert _count(platform, gateway_nonce) == 1


def test_recent_nonces_hold_until_the_window_passes() -> None:
    recent = RecentNonces()
    assert recent.hold("p\nn", 100, now=50)
    assert not recent.hold("p\nn", 110, now=60)  # a replay within the window
    assert recent.hold("q\nn", 110, now=60)  # another paasid
    assert recent.hold("p\nn", 500, now=200)  # past its window: claimed anew
    recent.release("p\nn")
    assert recent.hold("p\nn", 500, now=200)  # a failed call's nonce is free again
    recent.release("never-held")


def test_recent_nonces_drop_expired_entries() -> None:
    """Expired entries leave in arrival order as new nonces arrive: about one window's worth
    is kept."""
    recent = RecentNonces()
    for i in range(10):
        assert recent.hold(f"p\n{i}", 100, now=50)
    assert len(recent) == 10
    for i in range(10):
        assert recent.hold(f"p\nlater{i}", 500, now=200)
    assert len(recent) == 10  # the ten expired ones gone, two at a time
    recent.release("p\nlater0")
    assert recent.hold("p\nlater0", 510, now=210)  # released, held again: one entry
    assert not recent.hold("p\nlater0", 520, now=220)
    assert recent.hold("q\nx", 900, now=600)
    assert recent.hold("q\ny", 900, now=600)
    assert len(recent) <= 10


def test_a_nonce_claim_on_sqlite_is_one_statement(platform: Platform) -> None:
    """Inserted, or renewed once its window has passed; a nonce still held counts 0."""

    def claims(conn: Any) -> list[bool]:
        return [
            nonces.claim(conn, paasid="p", nonce="n", expires_at=100, now=50),
            nonces.claim(conn, paasid="p", nonce="n", expires_at=110, now=60),
            nonces.claim(conn, paasid="q", nonce="n", expires_at=110, now=60),
            nonces.claim(conn, paasid="p", nonce="n", expires_at=500, now=200),
            nonces.claim(conn, paasid="p", nonce="n", expires_at=510, now=210),
        ]

    assert platform.db.writer.run_sync(claims) == [True, False, True, True, False]
    with platform.db.read() as conn:
        rows = conn.execute(select(gateway_nonce).order_by(gateway_nonce.c.paasid)).all()
    assert [tuple(r) for r in rows] == [("p", "n", 500), ("q", "n", 110)]


async def test_serving_a_deferred_nonce_claimed_elsewhere_meanwhile_is_logged(
    serving: CallPipeline, signer: Signer, platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    """The moment a served read's nonce is held but not yet written (docs/interface/signing.md):
    another process claiming it then is not refused, but the server says so in its log."""
    nonce = str(signer.signed().nonce)
    # what a served read does with its nonce: held, and written with the writer's next group
    serving.nonces.read_claims.defer(signer.paasid, nonce, 2**40)
    # before that group runs (the event loop has not turned), another process claims it
    platform.db.writer.run_sync(
        lambda conn: nonces.claim(conn, paasid=signer.paasid, nonce=nonce, expires_at=2**40, now=0)
    )
    await serving.nonces.read_claims.drain()
    assert "also used elsewhere" in caplog.text
    assert _count(platform, gateway_nonce) == 1
