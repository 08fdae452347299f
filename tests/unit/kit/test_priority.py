"""A thread lowers its own CPU priority, once, and nobody else's (the analytics process's
readers yield to settlement; its applier thread keeps its priority)."""

from __future__ import annotations

import threading

from yibao.kit.priority import lower_this_thread, thread_nice


def _in_thread(fn):  # type: ignore[no-untyped-def]
    out: list[object] = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def test_a_thread_lowers_itself_once() -> None:
    main_before = thread_nice()

    def work() -> tuple[int, bool, int, bool, int]:
        before = thread_nice()
        first = lower_this_thread(3)
        after = thread_nice()
        again = lower_this_thread(3)
        return before, first, after, again, thread_nice()

    before, first, after, again, last = _in_thread(work)
    assert first is True and again is False
    assert after == min(19, before + 3)
    assert last == after  # lowered once, not twice
    assert thread_nice() == main_before  # the other threads keep theirs


def test_zero_changes_nothing() -> None:
    def work() -> tuple[bool, int, int]:
        before = thread_nice()
        return lower_this_thread(0), before, thread_nice()

    lowered, before, after = _in_thread(work)
    assert lowered is False and before == after
