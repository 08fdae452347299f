"""A few threads that run blocking calls for an event loop.

`loop.run_in_executor` on a `ThreadPoolExecutor` makes every call a concurrent future (a
`Condition` and its lock), a work item, a look at the pool's idle semaphore, then an asyncio
future chained to the concurrent one, whose state is copied back through a callback. On the
MySQL protocol a gateway hands several calls a request to its threads (the write job, the
reads, the credential generation), and that machinery held a sizeable share of the gateway's
interpreter lock (`bench/RESULTS.md`, "Nineteenth session"). Here a call is one tuple on a
`SimpleQueue`, and its answer one `call_soon_threadsafe` on the caller's loop.

The caller's context variables (its request id for the log) go with the call. A call whose
caller stopped waiting before it started is skipped, and its answer is dropped if it ran.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

T = TypeVar("T")

#: an asyncio future and the loop it belongs to, or a concurrent future (`submit`)
_Slot: TypeAlias = (
    "tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]] | concurrent.futures.Future[Any]"
)
_Item: TypeAlias = "tuple[contextvars.Context, Callable[..., Any], tuple[Any, ...], _Slot]"


class WorkersClosed(RuntimeError):
    """The workers were closed before this call ran."""

    def __init__(self) -> None:
        super().__init__("workers closed: the call did not run")


class Workers:
    """`threads` daemon threads named `name_0`, `name_1` … taking calls off one queue."""

    def __init__(self, threads: int, name: str) -> None:
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        for thread in self._threads:
            thread.start()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on one of the threads, awaited."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._put((contextvars.copy_context(), fn, args, (loop, future)))
        return await future

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """`fn(*args)` on one of the threads, for code that is not on an event loop."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._put((contextvars.copy_context(), fn, args, future))
        return future

    def close(self, *, cancel_queued: bool = False, wait: bool = True) -> None:
        """Stop the threads once the calls queued so far are done — or, with `cancel_queued`,
        failing those not yet started with `WorkersClosed`. `wait`: until the threads end."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if cancel_queued:
                _fail_all(self._queue)
            for _ in self._threads:
                self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join(timeout=30)

    def _put(self, item: _Item) -> None:
        with self._lock:  # not after close: a call queued behind the stops would never run
            if self._closed:
                raise WorkersClosed()
            self._queue.put(item)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            _run(item)
            del item  # an idle thread keeps nothing of its last call


def _run(item: _Item) -> None:
    context, fn, args, slot = item
    if not _claim(slot):
        return  # the caller stopped waiting
    try:
        value = context.run(fn, *args)
    except BaseException as exc:  # the caller gets it, the thread goes on
        _answer(slot, False, exc)
    else:
        _answer(slot, True, value)


def _claim(slot: _Slot) -> bool:
    """Whether the call should run (its caller is still waiting)."""
    if isinstance(slot, concurrent.futures.Future):
        return slot.set_running_or_notify_cancel()
    return not slot[1].cancelled()  # read across threads: at worst one needless run


def _answer(slot: _Slot, ok: bool, value: Any) -> None:
    if isinstance(slot, concurrent.futures.Future):
        if ok:
            slot.set_result(value)
        else:
            slot.set_exception(value)
        return
    loop, future = slot
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody awaits the answer
        loop.call_soon_threadsafe(_settle, future, ok, value)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # cancelled meanwhile
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _fail_all(calls: queue.SimpleQueue[_Item | None]) -> None:
    while True:
        try:
            item = calls.get_nowait()
        except queue.Empty:
            return
        if item is not None:
            slot = item[3]
            if isinstance(slot, concurrent.futures.Future):
                if slot.set_running_or_notify_cancel():
                    slot.set_exception(WorkersClosed())
            else:
                _answer(slot, False, WorkersClosed())
