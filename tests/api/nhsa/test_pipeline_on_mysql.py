"""On the MySQL protocol a writing call claims its msgid without looking it up first (one
statement fewer); a retry of an answered message still gets the stored answer and writes
nothing, and a msgid reused for another message is still refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from settle_factories import HOSP, His, Person, seed_institution, seed_person
from sqlalchemy import func, select

from yibao.enrolment.credentials import revoke_credential
from yibao.interface.pipeline import CallPipeline
from yibao.kit import jsonx
from yibao.runtime import Platform
from yibao.storage.tables import msg_log, sign_in

SIGN_IN = {"signIn": {"opter_no": "0001", "mac": "00-11-22-33-44-55", "ip": "10.0.0.8"}}
OTHER = {"signIn": {"opter_no": "0002", "mac": "00-11-22-33-44-66", "ip": "10.0.0.9"}}


def _count(platform: Platform, table: Any) -> int:
    with platform.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.mysql
async def test_a_retry_gets_the_stored_answer_and_a_reused_msgid_is_refused(
    mysql_platform: Platform,
) -> None:
    with mysql_platform.db.engine.begin() as conn:
        paasid, secret = seed_institution(conn, HOSP)
        seed_person(conn, Person("P0001", "110101199003074514"))
    pipeline = CallPipeline(mysql_platform)
    try:
        his = His(None, HOSP, paasid, secret)
        envelope = his.envelope("9001", SIGN_IN)
        body = jsonx.dumps(envelope)
        first = await pipeline.handle(body, his.paasid, his.secret)
        answer: dict[str, Any] = jsonx.loads(first.payload)
        assert answer["infcode"] == 0, answer
        again = await pipeline.handle(body, his.paasid, his.secret)
        assert again.payload == first.payload
        assert _count(mysql_platform, sign_in) == 1
        assert _count(mysql_platform, msg_log) == 1

        reused = jsonx.dumps({**envelope, "input": OTHER})
        refused: dict[str, Any] = jsonx.loads(
            (await pipeline.handle(reused, his.paasid, his.secret)).payload
        )
        assert refused["infcode"] == -1 and "报文ID重复" in refused["err_msg"]
        assert _count(mysql_platform, sign_in) == 1

        # the credential generation is read per call (shared by calls arriving together):
        # a revocation is refused on the very next call
        with mysql_platform.db.engine.begin() as conn:
            revoke_credential(
                conn, ids=mysql_platform.ids, actor="test", fixmedins_code=HOSP, paasid=paasid
            )
        after = jsonx.dumps(his.envelope("9001", SIGN_IN))
        answers = await asyncio.gather(
            *(pipeline.handle(after, his.paasid, his.secret) for _ in range(3))
        )
        for one in answers:
            gone: dict[str, Any] = jsonx.loads(one.payload)
            assert gone["infcode"] == -1 and "吊销" in gone["err_msg"], gone
    finally:
        pipeline.close()
