"""Lower the CPU priority of the calling thread (Linux `nice`, per thread).

On Linux every thread is a scheduling entity of its own: `setpriority(PRIO_PROCESS, tid, …)`
with a thread id changes that thread alone. The analytics process uses it so that a thread
running analytic reads yields the cores to settlement under load, while the replica applier's
thread in the same process keeps its priority (freshness depends on it).

A thread is lowered once: raising a priority back needs CAP_SYS_NICE, which a non-root
container does not have, so a lowered thread stays lowered — only threads that serve analytic
reads are ever lowered.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

_state = threading.local()
#: the most a thread is lowered to (the kernel's lowest priority)
LOWEST = 19


def lower_this_thread(by: int) -> bool:
    """Lower the calling thread's priority by `by` nice steps, once per thread; returns
    whether this call lowered it (False: already lowered, `by` 0, or not Linux)."""
    if by <= 0 or getattr(_state, "lowered", False):
        return False
    _state.lowered = True
    if not sys.platform.startswith("linux"):
        return False
    tid = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(LOWEST, now + by))
    except OSError as exc:  # a sandbox that forbids it: run at the normal priority
        log.warning("could not lower the analytic thread's CPU priority: %s", exc)
        return False
    return True


def thread_nice() -> int:
    """The calling thread's nice value (0 where it cannot be read)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except OSError:
        return 0
