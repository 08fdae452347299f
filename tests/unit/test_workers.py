"""`kit.workers.Workers`: a few threads that run blocking functions for an event loop, each
answer handed to the loop in one thread-safe call."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from yibao.kit.workers import Workers

request = contextvars.ContextVar("request", default="-")


class Blocker:
    """A job that says it started and then waits to be released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> int:
        self.started.set()
        self.release.wait(5)
        return 1

    async def running(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.started.wait, 5)


async def test_runs_on_its_threads_and_answers_the_loop() -> None:
    workers = Workers(2, "test-w")
    try:
        name = await workers.run(lambda: threading.current_thread().name)
        assert name.startswith("test-w_")
        assert await workers.run(lambda a, b: a + b, 2, 3) == 5
    finally:
        workers.close()


async def test_an_error_reaches_the_caller_and_the_thread_goes_on() -> None:
    workers = Workers(1, "test-w")

    def fails() -> None:
        raise ValueError("bad input")

    try:
        with pytest.raises(ValueError, match="bad input"):
            await workers.run(fails)
        assert await workers.run(lambda: 7) == 7
    finally:
        workers.close()


async def test_at_most_n_run_at_once_and_the_rest_wait() -> None:
    workers = Workers(2, "test-w")
    lock = threading.Lock()
    running, peak = 0, 0

    def job() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    try:
        await asyncio.gather(*(workers.run(job) for _ in range(8)))
        assert peak == 2
    finally:
        workers.close()


async def test_the_callers_context_goes_with_the_job() -> None:
    workers = Workers(1, "test-w")
    try:
        token = request.set("rid-1")
        try:
            assert await workers.run(request.get) == "rid-1"
        finally:
            request.reset(token)
        assert await workers.run(request.get) == "-"
    finally:
        workers.close()


async def test_a_caller_that_stopped_waiting_is_not_answered() -> None:
    workers = Workers(1, "test-w")
    slow = Blocker()
    try:
        task = asyncio.ensure_future(workers.run(slow))
        await slow.running()
        task.cancel()
        slow.release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await workers.run(lambda: 2) == 2  # the thread answered nobody and went on
    finally:
        workers.close()


def test_submit_from_plain_code_and_close_refuses_more() -> None:
    workers = Workers(2, "test-w")
    assert workers.submit(lambda x: x * 2, 21).result(timeout=5) == 42
    workers.close()
    with pytest.raises(RuntimeError, match="closed"):
        workers.submit(lambda: 1)
    assert not any(t.name.startswith("test-w_") and t.is_alive() for t in threading.enumerate())


async def test_close_runs_what_is_queued_unless_told_to_cancel_it() -> None:
    workers = Workers(1, "test-w")
    ran = []
    futures = [workers.submit(ran.append, i) for i in range(3)]
    workers.close()
    assert [f.result(timeout=5) for f in futures] == [None] * 3 and ran == [0, 1, 2]


async def test_close_fails_the_jobs_still_queued() -> None:
    workers = Workers(1, "test-w")
    block = Blocker()
    first = asyncio.ensure_future(workers.run(block))
    queued = asyncio.ensure_future(workers.run(lambda: 1))
    await block.running()
    closing = asyncio.get_running_loop().run_in_executor(
        None, lambda: workers.close(cancel_queued=True)
    )
    await asyncio.sleep(0.05)
    block.release.set()
    await closing
    await first
    with pytest.raises(RuntimeError, match="closed"):
        await queued
