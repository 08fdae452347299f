"""Sign-in throttling, kept in the row store (`login_throttle`) so that it holds across every
server process, and keyed so that an attacker cannot lock other people out.

Two counters, each a fixed window of `window`:

- **account + address**: `account_limit` failures for one username from one address lock
  that pair for `lockout`. The same account signing in from another address is not affected,
  so a guesser cannot lock the administrator out from elsewhere.
- **address**: `address_limit` failures from one address (any usernames: a spray) lock the
  address for `lockout` — but only for the accounts that have failed from it in the window.
  An account with no failure from that address (the administrator behind the same shared NAT,
  typing the right password) still signs in.

A locked attempt is refused without checking the password (the Argon2 check is slow on
purpose and must not become a way to load the server). A success clears its pair's count.
Keys are stored as sha256 hex: the table holds no user names or addresses in clear.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from yibao.storage.tables import login_throttle

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=5)


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _norm(username: str) -> str:
    return username.strip().lower()


@dataclass(frozen=True)
class LoginThrottle:
    account_limit: int = ACCOUNT_LIMIT
    address_limit: int = ADDRESS_LIMIT
    window: timedelta = WINDOW
    lockout: timedelta = LOCKOUT

    def _pair(self, username: str, address: str | None) -> str:
        return _key("pair", _norm(username), address or "-")

    def _address(self, address: str | None) -> str:
        return _key("addr", address or "-")

    def wait(self, conn: Connection, username: str, address: str | None, now: datetime) -> float:
        """Seconds this attempt must still wait (0: it may go ahead)."""
        rows = {
            r.throttle_key: r
            for r in conn.execute(
                select(login_throttle).where(
                    login_throttle.c.throttle_key.in_(
                        [self._pair(username, address), self._address(address)]
                    )
                )
            )
        }
        pair = rows.get(self._pair(username, address))
        addr = rows.get(self._address(address))
        waits = [0.0]
        if pair is not None and pair.locked_until is not None and pair.locked_until > now:
            waits.append((pair.locked_until - now).total_seconds())
        if addr is not None and addr.locked_until is not None and addr.locked_until > now:
            # the address is spraying: refuse the accounts it has been failing on
            pair_active = pair is not None and (
                pair.failures > 0 and pair.window_start + self.window > now
            )
            if pair_active:
                waits.append((addr.locked_until - now).total_seconds())
        return max(waits)

    def failed(self, conn: Connection, username: str, address: str | None, now: datetime) -> None:
        self._count(conn, self._pair(username, address), self.account_limit, now)
        self._count(conn, self._address(address), self.address_limit, now)

    def succeeded(self, conn: Connection, username: str, address: str | None) -> None:
        conn.execute(
            delete(login_throttle).where(
                login_throttle.c.throttle_key == self._pair(username, address)
            )
        )

    def _count(self, conn: Connection, key: str, limit: int, now: datetime) -> None:
        row = conn.execute(
            select(login_throttle).where(login_throttle.c.throttle_key == key)
        ).first()
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(login_throttle).values(
                            throttle_key=key,
                            failures=1,
                            window_start=now,
                            locked_until=now + self.lockout if limit <= 1 else None,
                        )
                    )
                return
            except IntegrityError:  # another process counted first: count on its row
                row = conn.execute(
                    select(login_throttle).where(login_throttle.c.throttle_key == key)
                ).first()
                assert row is not None
        failures = row.failures + 1 if row.window_start + self.window > now else 1
        start = row.window_start if failures > 1 else now
        values: dict[str, object] = {"failures": failures, "window_start": start}
        if failures >= limit:
            # keep the window's count: after the lockout, one more failure locks again
            values["locked_until"] = now + self.lockout
        conn.execute(
            update(login_throttle).where(login_throttle.c.throttle_key == key).values(**values)
        )

    @staticmethod
    def purge(conn: Connection, before: datetime) -> int:
        """Drop counters whose window and lockout both ended before `before`."""
        result = conn.execute(
            delete(login_throttle)
            .where(login_throttle.c.window_start < before)
            .where(
                (login_throttle.c.locked_until.is_(None)) | (login_throttle.c.locked_until < before)
            )
        )
        return int(result.rowcount or 0)
