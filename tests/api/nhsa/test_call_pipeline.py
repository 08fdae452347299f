"""A call without HTTP: the pipeline object answers request bodies directly (what a command or
a test can do), and a retried writing call gets its stored answer and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from settle_factories import HOSP, HOSP2, His, Person, seed_institution, seed_person
from sqlalchemy import func, select

from yibao.enrolment.credentials import revoke_credential
from yibao.interface import messages
from yibao.interface.messages import find_message
from yibao.interface.pipeline import CallPipeline
from yibao.kit import jsonx
from yibao.runtime import Platform
from yibao.storage.tables import sign_in

FOUND = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110101199003074514"}}
SIGN_IN = {"signIn": {"opter_no": "0001", "mac": "00-11-22-33-44-55", "ip": "10.0.0.8"}}


@pytest.fixture
def called(platform: Platform) -> Iterator[tuple[CallPipeline, His]]:
    with platform.db.engine.begin() as conn:
        paasid, secret = seed_institution(conn, HOSP)
        seed_institution(conn, HOSP2)
        seed_person(conn, Person("P0001", "110101199003074514"))
    pipeline = CallPipeline(platform)
    try:
        yield pipeline, His(None, HOSP, paasid, secret)
    finally:
        pipeline.close()


def _signed_in(platform: Platform) -> int:
    with platform.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(sign_in)).scalar_one())


async def test_sign_in_and_person_info_without_http(
    called: tuple[CallPipeline, His], platform: Platform
) -> None:
    pipeline, his = called
    body = jsonx.dumps(his.envelope("9001", SIGN_IN))
    payload, headers = await pipeline.handle(body, his.paasid, his.secret)
    assert headers == [(b"content-type", b"application/json;charset=utf-8")]
    answer: dict[str, Any] = jsonx.loads(payload)
    assert answer["infcode"] == 0, answer
    sign_no = answer["output"]["signinoutb"]["sign_no"]
    assert sign_no and _signed_in(platform) == 1

    # the idempotent retry: the very same answer, nothing written again
    again = await pipeline.handle(body, his.paasid, his.secret)
    assert again.payload == payload
    assert _signed_in(platform) == 1
    msgid = jsonx.loads(body)["msgid"]
    with platform.db.read() as conn:
        logged = find_message(conn, msgid)
        assert logged is not None
        assert (logged["fixmedins_code"], logged["infno"], logged["infcode"]) == (HOSP, "9001", 0)
        assert logged["response"] == payload.decode()
        assert find_message(conn, msgid, fixmedins_code=HOSP2) is None

    # the same msgid with another input is refused (报文ID重复), and writes nothing
    other = his.envelope("9001", {"signIn": {"opter_no": "0002"}}, msgid=msgid)
    refused = jsonx.loads((await pipeline.handle(jsonx.dumps(other), his.paasid, his.secret))[0])
    assert refused["infcode"] == -1 and "报文ID重复" in refused["err_msg"]
    assert _signed_in(platform) == 1

    his.sign_no = sign_no
    person = jsonx.loads(
        (await pipeline.handle(jsonx.dumps(his.envelope("1101", FOUND)), his.paasid, his.secret))[0]
    )
    assert person["infcode"] == 0, person
    assert person["output"]["baseinfo"]["psn_no"] == "P0001"


async def test_refusals_are_answers(called: tuple[CallPipeline, His]) -> None:
    pipeline, his = called
    body = jsonx.dumps(his.envelope("1101", FOUND))
    for paasid, secret, says in (
        (None, None, "缺少机构凭证"),
        (his.paasid, "wrong", "机构凭证无效或已吊销"),
    ):
        answer = jsonx.loads((await pipeline.handle(body, paasid, secret)).payload)
        assert answer["infcode"] == -1 and says in answer["err_msg"]
    # a revoked credential is refused at once
    with pipeline.platform.db.engine.begin() as conn:
        revoked = revoke_credential(
            conn,
            ids=pipeline.platform.ids,
            actor="test",
            fixmedins_code=HOSP2,
            paasid=f"{HOSP2}-test",
        )
    assert revoked["vali_flag"] == "0"
    other = jsonx.dumps(his.envelope("1101", FOUND, code=HOSP2))
    answer = jsonx.loads((await pipeline.handle(other, f"{HOSP2}-test", f"secret-of-{HOSP2}"))[0])
    assert answer["infcode"] == -1 and "机构凭证已吊销" in answer["err_msg"]
    too_big = jsonx.loads((await pipeline.handle(b"", his.paasid, his.secret, too_big=True))[0])
    assert too_big["infcode"] == -1 and "报文过大" in too_big["err_msg"]


def test_a_call_from_synchronous_code(called: tuple[CallPipeline, His]) -> None:
    pipeline, his = called
    answer = pipeline.run(jsonx.dumps(his.envelope("9001", SIGN_IN)), his.paasid, his.secret)
    assert jsonx.loads(answer.payload)["infcode"] == 0


async def test_a_new_message_is_not_looked_up_and_a_retry_still_gets_its_answer(
    called: tuple[CallPipeline, His], platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt claims the msgid without a look-up (one statement fewer a call); a
    retry — even one whose handler would now refuse it — is run again the careful way."""
    pipeline, his = called
    looked_up: list[str] = []
    stored = messages.stored

    def noted(conn: Any, msgid: str) -> Any:
        looked_up.append(msgid)
        return stored(conn, msgid)

    monkeypatch.setattr(messages, "stored", noted)
    body = jsonx.dumps(his.envelope("9001", SIGN_IN))
    first = await pipeline.handle(body, his.paasid, his.secret)
    assert jsonx.loads(first.payload)["infcode"] == 0
    assert looked_up == []
    # the very same message again: its sign-in runs once more in a savepoint, meets the
    # msgid in the message log, is undone, and the stored answer comes back
    again = await pipeline.handle(body, his.paasid, his.secret)
    assert again.payload == first.payload and _signed_in(platform) == 1
    assert looked_up  # the retry was looked up
