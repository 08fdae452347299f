"""Signature-mode tokens sealed at rest, and the shared nonce store's purge."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from yibao.enrolment import token_seal
from yibao.errors import ConfigError
from yibao.interface import nonces
from yibao.storage.tables import gateway_nonce


def test_seal_and_unseal(tmp_path: Path) -> None:
    sealed = token_seal.seal(tmp_path, "H1-abc", "the-token")
    assert "the-token" not in sealed
    assert (tmp_path / token_seal.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert token_seal.unseal(tmp_path, "H1-abc", sealed) == "the-token"
    # bound to its paasid; another key does not open it
    assert token_seal.unseal(tmp_path, "H1-other", sealed) is None
    other = tmp_path / "other"
    token_seal.ensure_key(other)
    assert token_seal.unseal(other, "H1-abc", sealed) is None
    with pytest.raises(ConfigError, match="令牌密钥文件不存在"):
        token_seal.unseal(tmp_path / "nowhere", "H1-abc", sealed)


def test_nonces_expire_and_are_purged(engine: Engine) -> None:
    with engine.begin() as conn:
        assert nonces.claim(conn, paasid="p", nonce="n", expires_at=100, now=50)
        assert not nonces.claim(conn, paasid="p", nonce="n", expires_at=110, now=60)
        assert nonces.claim(conn, paasid="q", nonce="n", expires_at=110, now=60)
        # once its window has passed the nonce may come again (its old request is stale)
        assert nonces.claim(conn, paasid="p", nonce="n", expires_at=500, now=200)
        assert nonces.purge(conn, now=200) == 1
        left = conn.execute(select(func.count()).select_from(gateway_nonce)).scalar_one()
        assert left == 1
