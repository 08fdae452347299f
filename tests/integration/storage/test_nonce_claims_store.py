"""A gateway nonce is claimed once in the store, on SQLite and on the MySQL protocol (where it
is inserted straight away and a duplicate key tells a replay from an expired nonce)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from yibao.interface import nonces
from yibao.storage.tables import gateway_nonce
from yibao.storage.uow import UnitOfWork


def _claim(engine: Engine, nonce: str, *, expires_at: int, now: int) -> bool:
    with UnitOfWork(engine) as uow:
        fresh = nonces.claim(uow.conn, paasid="P1", nonce=nonce, expires_at=expires_at, now=now)
        # the transaction goes on after a refused claim: the statement alone failed
        uow.conn.execute(select(func.count()).select_from(gateway_nonce)).scalar_one()
        uow.commit()
    return fresh


def test_a_nonce_is_claimed_once_and_again_after_its_window(engine: Engine) -> None:
    assert _claim(engine, "n-1", expires_at=1_000, now=700) is True
    assert _claim(engine, "n-1", expires_at=1_010, now=710) is False  # a replay
    assert _claim(engine, "n-2", expires_at=1_010, now=710) is True
    assert _claim(engine, "n-1", expires_at=2_000, now=1_500) is True  # its window had passed
    with engine.connect() as conn:
        rows = dict(conn.execute(select(gateway_nonce.c.nonce, gateway_nonce.c.expires_at)).all())
    assert rows == {"n-1": 2_000, "n-2": 1_010}
