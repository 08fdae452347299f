"""Sign-in throttling: per account and per address, within a window, for a lockout period;
a success clears the account's count."""

from __future__ import annotations

from yibao.users.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(user_limit=3, address_limit=5, window=60, lockout=120, clock=clock)


def test_an_account_locks_after_its_limit_and_unlocks_after_the_lockout() -> None:
    clock = Clock()
    t = _throttle(clock)
    for _ in range(2):
        t.failed("Oper", "10.0.0.1")
        assert t.locked_for("oper", "10.0.0.1") == 0
    t.failed("oper ", "10.0.0.2")  # names compare trimmed and case-blind
    assert t.locked_for("OPER", "10.0.0.9") == 120
    clock.now += 119
    assert t.locked_for("oper", None) == 1
    clock.now += 1
    assert t.locked_for("oper", None) == 0


def test_failures_outside_the_window_do_not_count() -> None:
    clock = Clock()
    t = _throttle(clock)
    t.failed("oper", None)
    t.failed("oper", None)
    clock.now += 61
    t.failed("oper", None)
    assert t.locked_for("oper", None) == 0


def test_a_success_clears_the_account_but_not_the_address() -> None:
    clock = Clock()
    t = _throttle(clock)
    t.failed("oper", "10.0.0.1")
    t.failed("oper", "10.0.0.1")
    t.succeeded("oper")
    t.failed("oper", "10.0.0.1")
    assert t.locked_for("oper", None) == 0
    # one address spraying many accounts locks on the address limit
    for name in ("a", "b"):
        t.failed(name, "10.0.0.1")
    assert t.locked_for("someone-else", "10.0.0.1") == 120
    assert t.locked_for("someone-else", "10.0.0.2") == 0
