"""Sign-in throttling in the row store: it holds across server processes (two platforms on
one database), locks a guessed account only from the guessing address, and a spraying address
never blocks an account it has not failed on (a shared NAT does not lock out the
administrator)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from yibao.config import Settings, load_settings
from yibao.runtime import Platform, open_platform
from yibao.storage.tables import login_throttle
from yibao.users.throttle import LoginThrottle

T0 = datetime(2026, 12, 6, 9, 0)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """On SQLite and (marker `mysql`) the MySQL-protocol store."""
    return load_settings(data_dir=tmp_path / "data", database_url=db_url)


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    plat = open_platform(settings)
    yield plat
    plat.close()


NAT = "10.0.0.1"


def fail(
    platform: Platform, throttle: LoginThrottle, user: str, address: str, at: datetime
) -> None:
    platform.db.writer.run_sync(lambda conn: throttle.failed(conn, user, address, at))


def wait(
    platform: Platform, throttle: LoginThrottle, user: str, address: str, at: datetime
) -> float:
    with platform.db.read() as conn:
        return throttle.wait(conn, user, address, at)


def test_the_count_is_shared_by_every_process(platform: Platform, settings: Settings) -> None:
    throttle = LoginThrottle()
    other = open_platform(settings)  # a second gateway process on the same store
    try:
        for i in range(3):
            fail(platform, throttle, "oper", NAT, T0 + timedelta(seconds=i))
        for i in range(2):
            fail(other, throttle, "Oper ", NAT, T0 + timedelta(seconds=10 + i))
        at = T0 + timedelta(seconds=20)
        assert wait(platform, throttle, "oper", NAT, at) > 0
        assert wait(other, throttle, "OPER", NAT, at) > 0
        # after the lockout it may try again
        assert wait(other, throttle, "oper", NAT, at + timedelta(minutes=5)) == 0
    finally:
        other.close()


def test_a_guessed_account_is_locked_only_from_the_guessing_address(platform: Platform) -> None:
    throttle = LoginThrottle()
    for i in range(5):
        fail(platform, throttle, "admin", "203.0.113.9", T0 + timedelta(seconds=i))
    at = T0 + timedelta(minutes=1)
    assert wait(platform, throttle, "admin", "203.0.113.9", at) > 0
    assert wait(platform, throttle, "admin", "192.168.1.20", at) == 0


def test_a_spraying_nat_does_not_lock_out_the_administrator(platform: Platform) -> None:
    throttle = LoginThrottle()
    for i in range(30):  # a colleague's infected PC behind the same NAT sprays usernames
        fail(platform, throttle, f"user{i % 10}", NAT, T0 + timedelta(seconds=i))
    at = T0 + timedelta(minutes=1)
    assert wait(platform, throttle, "user3", NAT, at) > 0  # the sprayed accounts wait
    assert wait(platform, throttle, "admin", NAT, at) == 0  # the administrator signs in
    # a success clears its own pair only
    platform.db.writer.run_sync(lambda conn: throttle.succeeded(conn, "user3", NAT))
    assert wait(platform, throttle, "user4", NAT, at) > 0


def test_keys_hold_no_names_or_addresses_and_old_rows_are_purged(platform: Platform) -> None:
    throttle = LoginThrottle()
    fail(platform, throttle, "someone", NAT, T0)
    with platform.db.read() as conn:
        keys = conn.execute(select(login_throttle.c.throttle_key)).scalars().all()
    assert len(keys) == 2 and all(len(k) == 64 and "someone" not in k for k in keys)
    purged = platform.db.writer.run_sync(
        lambda conn: LoginThrottle.purge(conn, T0 + timedelta(hours=1))
    )
    assert purged == 2
    with platform.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(login_throttle)).scalar_one() == 0
