"""Gateway credentials through their life: a revocation made elsewhere (another process, the
CLI) is refused on the very next call, also for a credential this process has cached; a rotated
credential works beside its successor for the overlap and is refused after; every refused use of
a revoked or expired credential is counted on its row; an institution deactivated is refused at
once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from settle_factories import HOSP, His, Person, seed_institution, seed_person
from sqlalchemy import Connection, select

from yibao.enrolment import credentials, institutions
from yibao.interface import authentication
from yibao.interface.pipeline import CallPipeline
from yibao.kit import jsonx
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator
from yibao.runtime import Platform
from yibao.storage.tables import fixmedins, fixmedins_credential

FOUND = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110101199003074514"}}
IDS = IdGenerator(7)


@pytest.fixture(params=["serving", "command"])
def called(
    request: pytest.FixtureRequest, platform: Platform
) -> Iterator[tuple[CallPipeline, His]]:
    """`serving`: the pipeline holds its event-loop reader (SQLite, `yibao serve`); `command`:
    every read goes through the pool (a MySQL-protocol store, or a command)."""
    with platform.db.engine.begin() as conn:
        paasid, secret = seed_institution(conn, HOSP)
        seed_person(conn, Person("P0001", "110101199003074514"))
    pipeline = CallPipeline(platform)
    pipeline.serving = request.param == "serving"  # type: ignore[attr-defined]
    try:
        yield pipeline, His(None, HOSP, paasid, secret)
    finally:
        pipeline.close()


async def _call(pipeline: CallPipeline, his: His, paasid: str, secret: str) -> dict:
    if getattr(pipeline, "serving", False):
        pipeline.start()
    body = jsonx.dumps(his.envelope("1101", FOUND))
    return jsonx.loads((await pipeline.handle(body, paasid, secret)).payload)


def _row(platform: Platform, paasid: str) -> dict:
    with platform.db.read() as conn:
        return dict(
            conn.execute(
                select(fixmedins_credential).where(fixmedins_credential.c.paasid == paasid)
            )
            .mappings()
            .one()
        )


async def test_a_revocation_elsewhere_is_refused_on_the_next_call_and_counted(
    called: tuple[CallPipeline, His], platform: Platform
) -> None:
    pipeline, his = called
    assert (await _call(pipeline, his, his.paasid, his.secret))["infcode"] == 0  # now cached
    # revoked by another process: its own connection, this pipeline's cache untouched
    with platform.db.engine.begin() as conn:
        credentials.revoke_credential(
            conn, ids=IDS, actor="cli:ops", fixmedins_code=HOSP, paasid=his.paasid
        )
    for _ in range(2):
        answer = await _call(pipeline, his, his.paasid, his.secret)
        assert answer["infcode"] == -1 and "已吊销" in answer["err_msg"], answer
    # a wrong secret is refused as before and not counted (only authentic uses count)
    wrong = await _call(pipeline, his, his.paasid, "not-the-secret")
    assert wrong["infcode"] == -1
    pipeline.credentials.flush()
    row = _row(platform, his.paasid)
    assert row["refused_count"] == 2 and row["last_refused_at"] is not None
    with platform.db.read() as conn:
        (listed,) = credentials.list_credentials(conn, fixmedins_code=HOSP)
    assert listed["state"] == "revoked" and listed["refused_count"] == 2


async def test_a_rotated_credential_overlaps_its_successor_then_is_refused(
    called: tuple[CallPipeline, His], platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline, his = called
    assert (await _call(pipeline, his, his.paasid, his.secret))["infcode"] == 0
    with platform.db.engine.begin() as conn:
        new = credentials.rotate_credential(
            conn, ids=IDS, actor="admin", fixmedins_code=HOSP, paasid=his.paasid,
            overlap_s=3600, data_dir=platform.settings.data_dir,
        )  # fmt: skip
    assert new["auth_mode"] == "static" and new["rotated_from"] == his.paasid
    # both valid during the overlap
    assert (await _call(pipeline, his, his.paasid, his.secret))["infcode"] == 0
    assert (await _call(pipeline, his, new["paasid"], new["secret"]))["infcode"] == 0
    with platform.db.read() as conn:
        states = {r["paasid"]: r["state"] for r in credentials.list_credentials(conn, fixmedins_code=HOSP)}  # fmt: skip
    assert states == {his.paasid: "overlap", new["paasid"]: "active"}
    # a second rotation of the old one is refused: rotate the successor
    with platform.db.engine.begin() as conn, pytest.raises(Exception, match="already rotated"):
        credentials.rotate_credential(
            conn, ids=IDS, actor="admin", fixmedins_code=HOSP, paasid=his.paasid,
            overlap_s=3600, data_dir=platform.settings.data_dir,
        )  # fmt: skip
    # the overlap ends — the clock moves past expires_at, no change in the row store: the
    # credential this process has cached is refused at its next use, and counted
    later = local_naive_now() + timedelta(seconds=3601)
    monkeypatch.setattr(authentication, "_now", lambda: later)
    answer = await _call(pipeline, his, his.paasid, his.secret)
    assert answer["infcode"] == -1 and "已过期" in answer["err_msg"], answer
    assert (await _call(pipeline, his, new["paasid"], new["secret"]))["infcode"] == 0
    pipeline.credentials.flush()
    assert _row(platform, his.paasid)["refused_count"] == 1


async def test_a_rotation_without_overlap_ends_the_old_credential_at_once(
    called: tuple[CallPipeline, His], platform: Platform
) -> None:
    pipeline, his = called
    assert (await _call(pipeline, his, his.paasid, his.secret))["infcode"] == 0  # cached
    with platform.db.engine.begin() as conn:
        credentials.rotate_credential(
            conn, ids=IDS, actor="admin", fixmedins_code=HOSP, paasid=his.paasid,
            overlap_s=0, data_dir=platform.settings.data_dir,
        )  # fmt: skip
    answer = await _call(pipeline, his, his.paasid, his.secret)
    assert answer["infcode"] == -1 and "已过期" in answer["err_msg"]


async def test_an_institution_deactivated_is_refused_at_once(
    called: tuple[CallPipeline, His], platform: Platform
) -> None:
    pipeline, his = called
    assert (await _call(pipeline, his, his.paasid, his.secret))["infcode"] == 0
    with platform.db.engine.begin() as conn:
        institutions.change_institution(
            conn, ids=IDS, actor="admin", fixmedins_code=HOSP, vali_flag="0"
        )
        assert conn.execute(select(fixmedins.c.vali_flag)).scalar() == "0"
    answer = await _call(pipeline, his, his.paasid, his.secret)
    assert answer["infcode"] == -1 and "凭证" in answer["err_msg"]


# -- serving SQLite: the writer checks a cached credential's generation from its row cache


def _trace_writer(platform: Platform, sink: Any) -> None:
    """Set the trace callback of the writer's connection from the writer's own thread: set or
    cleared from another thread while the writer runs a statement, sqlite3 would wait for the
    connection's mutex holding the interpreter lock that the writer's callback waits for."""

    def job(conn: Connection) -> None:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.set_trace_callback(sink)  # type: ignore[attr-defined]

    platform.db.writer.run_sync(job)


@pytest.fixture
async def warm(platform: Platform) -> AsyncIterator[tuple[CallPipeline, His]]:
    """A pipeline serving SQLite (its event-loop reader open) whose credential is cached and
    checked once by the writer (the generation kept in the writer's row cache)."""
    with platform.db.engine.begin() as conn:
        paasid, secret = seed_institution(conn, HOSP)
        seed_person(conn, Person("P0001", "110101199003074514"))
    pipeline = CallPipeline(platform)
    pipeline.start()
    try:
        his = His(None, HOSP, paasid, secret)
        for _ in range(2):  # loaded, then checked once by the writer
            assert (await _call(pipeline, his, paasid, secret))["infcode"] == 0
        yield pipeline, his
    finally:
        pipeline.close()


async def test_serving_a_cached_credential_costs_no_generation_statement(
    warm: tuple[CallPipeline, His], platform: Platform
) -> None:
    """Serving SQLite, a cached credential's generation is checked in the writer's job from
    its row cache: neither the event loop nor the writer reads `credential_gen` per call."""
    pipeline, his = warm
    loop_sql: list[str] = []
    writer_sql: list[str] = []
    reader = pipeline._reader
    assert reader is not None  # used on this thread only
    reader.connection.dbapi_connection.set_trace_callback(loop_sql.append)  # type: ignore[union-attr]
    _trace_writer(platform, writer_sql.append)
    try:
        for _ in range(3):
            assert (await _call(pipeline, his, his.paasid, his.secret))["infcode"] == 0
    finally:
        _trace_writer(platform, None)
    assert writer_sql, "1101 runs on the writer while serving SQLite"
    assert not [s for s in loop_sql + writer_sql if "seq_counter" in s], (loop_sql, writer_sql)


async def test_serving_a_revocation_by_this_process_writer_is_refused_next(
    warm: tuple[CallPipeline, His], platform: Platform
) -> None:
    """A revocation committed by the writer itself (the console of this process) leaves the
    store's `data_version` unchanged for the writer's connection: the bump drops the writer's
    kept generation, so the next call is refused all the same."""
    pipeline, his = warm
    await platform.db.writer.run(
        lambda conn: credentials.revoke_credential(
            conn, ids=IDS, actor="console:admin", fixmedins_code=HOSP, paasid=his.paasid
        )
    )
    answer = await _call(pipeline, his, his.paasid, his.secret)
    assert answer["infcode"] == -1 and "已吊销" in answer["err_msg"], answer


async def test_serving_a_generation_moved_for_another_credential_still_answers(
    warm: tuple[CallPipeline, His], platform: Platform
) -> None:
    """A generation moved by someone else's credential fails the cached check of a read on
    the writer; the call is authenticated again from the store and answered."""
    pipeline, his = warm
    for _ in range(2):
        await platform.db.writer.run(
            lambda conn: credentials.issue_credential(
                conn, ids=IDS, actor="console:admin", fixmedins_code=HOSP,
                data_dir=platform.settings.data_dir,
            )
        )  # fmt: skip
        assert (await _call(pipeline, his, his.paasid, his.secret))["infcode"] == 0
        # answered after loading the credential again under the moved generation
        with platform.db.read() as conn:
            assert pipeline.credentials._generation == credentials.generation(conn)
