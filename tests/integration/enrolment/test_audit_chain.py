"""The audit trail's hash chain: a record edited, removed or reordered offline is named by
`verify`; a purge leaves an anchor so that verify still passes; concurrent writers never fork."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import Engine, delete, select, update

from yibao.enrolment import audit
from yibao.enrolment.repo import audit as audit_repo
from yibao.errors import InvalidInput
from yibao.kit.ids import IdGenerator
from yibao.storage.tables import audit_anchor, audit_chain, audit_log
from yibao.storage.uow import UnitOfWork

IDS = IdGenerator(5)
T0 = datetime(2026, 1, 1, 9, 0, 0)


def _fill(engine: Engine, n: int = 6, *, start: datetime = T0) -> list[int]:
    ids = []
    with UnitOfWork(engine) as uow:
        for i in range(n):
            ids.append(
                audit.record(
                    uow.conn,
                    ids=IDS,
                    actor=f"user{i}",
                    action="rule.change",
                    target=f"R{i}",
                    detail={"n": i, "名": "规则"},
                    at=start + timedelta(days=i, microseconds=123),
                    tenant="agency",
                    role="sysadmin",
                    address="10.0.0.1",
                    purpose="审核",
                    records=i,
                )
            )
        uow.commit()
    return ids


def _verify(engine: Engine) -> audit.ChainReport:
    with engine.connect() as conn:
        return audit.verify(conn)


def _seq_of(engine: Engine, audit_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(audit_log.c.chain_seq).where(audit_log.c.audit_id == audit_id)
            ).scalar_one()
        )


def _offline(engine: Engine, *statements: object) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[call-overload]


def test_an_intact_chain_verifies_and_links_each_record_to_the_one_before(engine: Engine) -> None:
    ids = _fill(engine)
    report = _verify(engine)
    assert report.ok and report.checked == 6 and report.head_seq == 6, report
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.chain_seq)).mappings().all()
    assert [r["audit_id"] for r in rows] == ids
    assert rows[0]["prev_hash"] == audit.GENESIS
    assert all(b["prev_hash"] == a["row_hash"] for a, b in pairwise(rows))
    assert rows[2]["tenant"] == "agency" and rows[2]["records"] == 2
    assert rows[2]["at"] == datetime(2026, 1, 3, 9, 0, 0)  # whole seconds, as hashed


def test_an_empty_trail_verifies(engine: Engine) -> None:
    assert _verify(engine).ok


def test_a_row_edited_offline_is_named(engine: Engine) -> None:
    ids = _fill(engine)
    _offline(engine, update(audit_log).where(audit_log.c.audit_id == ids[3]).values(actor="x"))
    report = _verify(engine)
    assert not report.ok and report.problem == "changed"
    assert report.bad_seq == 4 and report.bad_audit_id == ids[3]
    assert f"#4 (audit_id {ids[3]})" in report.message


def test_a_row_rewritten_with_a_recomputed_hash_breaks_the_next_link(engine: Engine) -> None:
    ids = _fill(engine)
    with engine.connect() as conn:
        row = dict(
            conn.execute(select(audit_log).where(audit_log.c.audit_id == ids[2])).mappings().one()
        )
    row["detail"] = '{"n":99}'
    forged = audit.row_hash(row["prev_hash"], row)
    _offline(
        engine,
        update(audit_log)
        .where(audit_log.c.audit_id == ids[2])
        .values(detail=row["detail"], row_hash=forged),
    )
    report = _verify(engine)
    assert not report.ok and report.bad_seq == 4 and report.bad_audit_id == ids[3]


def test_a_deleted_row_is_named(engine: Engine) -> None:
    ids = _fill(engine)
    _offline(engine, delete(audit_log).where(audit_log.c.audit_id == ids[2]))
    report = _verify(engine)
    assert not report.ok and report.problem == "removed" and report.bad_seq == 3
    assert "#3" in report.message


def test_the_last_row_deleted_is_named_against_the_head(engine: Engine) -> None:
    ids = _fill(engine)
    _offline(engine, delete(audit_log).where(audit_log.c.audit_id == ids[-1]))
    report = _verify(engine)
    assert not report.ok and report.problem == "truncated" and report.bad_seq == 6


def test_two_rows_swapped_are_named(engine: Engine) -> None:
    ids = _fill(engine)
    a, b = _seq_of(engine, ids[2]), _seq_of(engine, ids[3])
    _offline(
        engine,
        update(audit_log).where(audit_log.c.audit_id == ids[2]).values(chain_seq=-1),
        update(audit_log).where(audit_log.c.audit_id == ids[3]).values(chain_seq=a),
        update(audit_log).where(audit_log.c.audit_id == ids[2]).values(chain_seq=b),
    )
    report = _verify(engine)
    assert not report.ok and report.problem == "reordered"
    assert report.bad_seq == 3 and report.bad_audit_id == ids[3]


def test_purge_leaves_an_anchor_and_verify_still_passes(engine: Engine) -> None:
    now = T0 + timedelta(days=400)
    _fill(engine, 3, start=T0)  # old: days 0-2
    kept = _fill(engine, 2, start=now - timedelta(days=10))
    with UnitOfWork(engine) as uow:
        with pytest.raises(InvalidInput, match="before"):
            audit.purge(uow.conn, ids=IDS, actor="ops", retention_days=180,
                        before=now - timedelta(days=5), now=now)  # fmt: skip
        done = audit.purge(uow.conn, ids=IDS, actor="ops", retention_days=180, now=now)
        uow.commit()
    assert done["purged"] == 3 and done["upto_seq"] == 3
    # committed anchor, rows not yet deleted (a purge interrupted here): the chain verifies
    assert _verify(engine).ok
    deleted = []
    while True:
        with UnitOfWork(engine) as uow:
            n = audit.delete_purged(uow.conn, batch=2)
            uow.commit()
        if not n:
            break
        deleted.append(n)
    assert deleted == [2, 1]
    report = _verify(engine)
    assert report.ok and report.start_seq == 3 and report.checked == 3, report  # 2 kept + purge
    with engine.connect() as conn:
        left = conn.execute(select(audit_log.c.audit_id, audit_log.c.action)).all()
        (purge_anchor,) = conn.execute(select(audit_anchor)).mappings().all()
    assert {r.audit_id for r in left} >= set(kept)
    assert any(r.action == "audit.purge" for r in left)
    assert purge_anchor["kind"] == "purge" and purge_anchor["purged"] == 3
    # Removing the purge anchor (to hide the purge) is noticed: the chain starts at #4.
    _offline(engine, delete(audit_anchor))
    report = _verify(engine)
    assert not report.ok and report.bad_seq == 1


def test_purge_refuses_a_broken_chain(engine: Engine) -> None:
    ids = _fill(engine, 3)
    _offline(engine, update(audit_log).where(audit_log.c.audit_id == ids[0]).values(target="x"))
    with UnitOfWork(engine) as uow, pytest.raises(InvalidInput, match="verify"):
        audit.purge(uow.conn, ids=IDS, actor="ops", retention_days=180,
                    now=T0 + timedelta(days=400))  # fmt: skip


def test_an_exported_anchor_detects_a_rewritten_chain(engine: Engine) -> None:
    _fill(engine, 4)
    with UnitOfWork(engine) as uow:
        exported = audit.anchor(uow.conn, ids=IDS)
        uow.commit()
    assert exported["chain_seq"] == 4
    with engine.connect() as conn:
        assert audit.check_anchor(conn, exported) is None
    # A forger rebuilds the whole chain consistently (and the head) from record 2 on ...
    with engine.begin() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.chain_seq)).mappings().all()
        prev = rows[0]["row_hash"]
        for r in rows[1:]:
            row = {**r, "actor": "someone"}
            digest = audit.row_hash(prev, row)
            conn.execute(
                update(audit_log)
                .where(audit_log.c.audit_id == r["audit_id"])
                .values(actor="someone", prev_hash=prev, row_hash=digest)
            )
            prev = digest
        conn.execute(update(audit_chain).values(last_hash=prev))
    with engine.connect() as conn:
        assert audit.verify(conn).ok  # ... which only an anchor kept outside can tell
        assert "#4" in (audit.check_anchor(conn, exported) or "")


def test_concurrent_writers_never_fork_the_chain(engine: Engine) -> None:
    """Writers in parallel transactions (threads, each its own connection) queue on the head:
    every position is taken once and the chain verifies."""

    def write(n: int) -> None:
        for i in range(8):
            with UnitOfWork(engine) as uow:
                audit.record(uow.conn, ids=IDS, actor=f"w{n}", action="test.concurrent",
                             target=str(i))  # fmt: skip
                uow.commit()

    # `yibao init` creates the chain's head row (writers racing to *create* it could deadlock
    # on MariaDB's gap locks), and the first record takes position 1 after it
    with UnitOfWork(engine) as uow:
        audit_repo.ensure_head(uow.conn)
        audit.record(uow.conn, ids=IDS, actor="init", action="test.first", target=None)
        uow.commit()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(4)))
    report = _verify(engine)
    assert report.ok and report.checked == 33 and report.head_seq == 33, report


def test_credential_generation_and_refusal_counts_on_every_store(engine: Engine) -> None:
    """The counter every gateway process reads per call moves with each bump (on SQLite and
    MariaDB), and refused uses add up on the credential's row."""
    from yibao.enrolment import credentials
    from yibao.storage.tables import fixmedins, fixmedins_credential

    with UnitOfWork(engine) as uow:
        assert credentials.generation(uow.conn) == 0
        credentials.bump_generation(uow.conn)
        credentials.bump_generation(uow.conn)
        assert credentials.generation(uow.conn) == 2
        uow.conn.execute(
            fixmedins.insert().values(fixmedins_code="H11010200001", fixmedins_name="医院",
                                      kind="hospital", hosp_lv="3", admdvs="110102",
                                      vali_flag="1", created_at=T0, updated_at=T0)
        )  # fmt: skip
        uow.conn.execute(
            fixmedins_credential.insert().values(paasid="p1", fixmedins_code="H11010200001",
                                                 auth_mode="static", created_at=T0)
        )  # fmt: skip
        credentials.count_refusals(uow.conn, {"p1": (3, T0)})
        credentials.count_refusals(uow.conn, {"p1": (2, T0 + timedelta(hours=1))})
        uow.commit()
    with engine.connect() as conn:
        (row,) = credentials.list_credentials(conn, fixmedins_code="H11010200001", now=T0)
    assert row["refused_count"] == 5 and row["last_refused_at"] == T0 + timedelta(hours=1)
    assert row["state"] == "active" and row["vali_flag"] == "1"
