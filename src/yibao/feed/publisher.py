"""The publisher: tails the change log and publishes each record to NATS JetStream.

At least once, in order per subject: records go out in `seq` order on one connection, a batch
at a time, and the position only moves past a record once JetStream has acknowledged it and
every record before it. After a restart or an outage the position is read back from the stream
itself (the `Nats-Msg-Id` of its last message), so nothing is kept on our side that could
disagree with what the stream holds, and the stream's duplicate window drops a record sent
twice. A broker that is down or a wrong URL never reaches settlement: the publisher runs in its
own thread with its own event loop, and the feed only lags (the lag is in `status()`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from yibao.feed.records import SUBJECT_PREFIX, FeedRecord, Pseudonymiser, to_record

log = logging.getLogger(__name__)

#: JetStream forgets a message id after this long; a restart resends at most one batch, far
#: inside it.
DUPLICATE_WINDOW_S = 600.0

ReadChanges = Callable[[int, int], Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]]
LatestSeq = Callable[[], int]


def redact(url: str) -> str:
    """The URL without user or password, for logs and status."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


@dataclass
class FeedStatus:
    url: str
    stream: str
    connected: bool = False
    published_seq: int = 0
    latest_seq: int = 0
    published_total: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    started: bool = False
    errors_total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def lag(self) -> int:
        return max(0, self.latest_seq - self.published_seq)

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "url": self.url,
                "stream": self.stream,
                "connected": self.connected,
                "published_seq": self.published_seq,
                "latest_seq": self.latest_seq,
                "lag": self.lag,
                "published_total": self.published_total,
                "errors_total": self.errors_total,
                "last_error": self.last_error,
            }


class FeedPublisher:
    """Publishes the change log to `stream` on the NATS server at `url`."""

    def __init__(
        self,
        url: str,
        *,
        read_changes: ReadChanges,
        latest_seq: LatestSeq,
        pseudonym: Pseudonymiser,
        stream: str = "YIBAO_CHANGES",
        batch: int = 500,
        poll_s: float = 0.2,
        connect_timeout_s: float = 2.0,
        ack_timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.stream = stream
        self._read = read_changes
        self._latest = latest_seq
        self._pseudonym = pseudonym
        self._batch = batch
        self._poll_s = poll_s
        self._connect_timeout_s = connect_timeout_s
        self._ack_timeout_s = ack_timeout_s
        self.status = FeedStatus(url=redact(url), stream=stream)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self.status.started = True
        self._thread = threading.Thread(target=self._run_thread, name="yibao-feed", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Called after a commit: publish now rather than at the next poll."""
        self._wake.set()

    def wait_published(self, target: int, timeout: float = 30.0) -> bool:
        """Block until every record up to `target` is acknowledged (tests, `feed run --once`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status.published_seq >= target:
                return True
            time.sleep(0.02)
        return self.status.published_seq >= target

    def run_forever(self) -> None:
        """Run in the calling thread until `stop()` (the `yibao feed run` command)."""
        self.status.started = True
        self._run_thread()

    # -- the loop ----------------------------------------------------------------------------

    def _run_thread(self) -> None:
        asyncio.run(self._main())

    def _error(self, what: str, exc: BaseException) -> None:
        message = f"{what}: {type(exc).__name__}: {exc}".replace(self.url, self.status.url)
        with self.status._lock:
            first = self.status.last_error != message
            self.status.last_error = message
            self.status.last_error_at = time.time()
            self.status.errors_total += 1
            self.status.connected = False
        if first:  # the same failure again is counted, not logged again
            log.warning("change feed %s: %s", self.status.url, message)

    async def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stop.is_set() and time.monotonic() < end:
            if self._wake.is_set():
                self._wake.clear()
                return
            await asyncio.sleep(min(0.05, max(0.0, end - time.monotonic())))

    async def _main(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                await self._session()
                backoff = 0.5
            except Exception as exc:
                self._error("连接或发布失败 connect/publish failed", exc)
                await self._sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _session(self) -> None:
        import nats
        from nats.js.api import StreamConfig

        async def quiet(exc: Exception) -> None:
            """The client's own error log; failures reach `_error` through the raise."""

        # One attempt per session (the outer loop retries with backoff); the client's own
        # reconnect would hide an outage from the status and republish nothing we track.
        nc = await asyncio.wait_for(
            nats.connect(
                self.url,
                connect_timeout=self._connect_timeout_s,
                allow_reconnect=False,
                max_reconnect_attempts=1,
                error_cb=quiet,
                name="yibao-feed",
            ),
            timeout=self._connect_timeout_s * 3,
        )
        try:
            js = nc.jetstream(timeout=self._ack_timeout_s)
            config = StreamConfig(
                name=self.stream,
                subjects=[f"{SUBJECT_PREFIX}.>"],
                duplicate_window=DUPLICATE_WINDOW_S,
            )
            try:
                await js.add_stream(config)
            except Exception:
                await js.update_stream(config)
            position = await self._position(js)
            with self.status._lock:
                self.status.connected = True
                self.status.published_seq = position
                self.status.last_error = None
            while not self._stop.is_set():
                if not nc.is_connected:
                    raise ConnectionError("NATS 连接已断开 connection lost")
                self.status.latest_seq = await asyncio.to_thread(self._latest)
                rows = await asyncio.to_thread(self._read, position, self._batch)
                if not rows:
                    await self._sleep(self._poll_s)
                    continue
                records = [to_record(change, data, self._pseudonym) for change, data in rows]
                position = await self._publish(js, records, position)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    async def _position(self, js: Any) -> int:
        """The seq of the last record the stream holds (0 for an empty stream)."""
        info = await js.stream_info(self.stream)
        last = int(info.state.last_seq or 0)
        if last == 0:
            return 0
        msg = await js.get_msg(self.stream, last)
        headers = msg.headers or {}
        msg_id = headers.get("Nats-Msg-Id")
        return int(msg_id) if msg_id and str(msg_id).isdigit() else 0

    async def _publish(self, js: Any, records: list[FeedRecord], position: int) -> int:
        """Publish a batch in order; returns the new position (the last record acknowledged
        with every record before it). Raises when some record was not acknowledged, after
        moving the position as far as it may."""
        tasks = [
            asyncio.ensure_future(
                js.publish(r.subject, r.payload, headers={"Nats-Msg-Id": r.msg_id})
            )
            for r in records
        ]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failure: BaseException | None = None
        published = 0
        for record, result in zip(records, results, strict=True):
            if isinstance(result, BaseException):
                failure = result
                break
            position = record.seq
            published += 1
        with self.status._lock:
            self.status.published_seq = position
            self.status.published_total += published
        if failure is not None:
            raise failure
        return position


def published_position(url: str, stream: str, *, timeout_s: float = 5.0) -> int:
    """The seq of the last record the stream holds (0 when it holds none or does not exist);
    raises when the broker cannot be reached (`yibao replica trim-log` must not guess)."""

    async def ask() -> int:
        import nats
        from nats.js.errors import NotFoundError

        async def quiet(exc: Exception) -> None:
            """Failures reach the caller through the raise."""

        nc = await asyncio.wait_for(
            nats.connect(
                url,
                connect_timeout=timeout_s,
                allow_reconnect=False,
                max_reconnect_attempts=1,
                error_cb=quiet,
            ),
            timeout=timeout_s * 3,
        )
        try:
            js = nc.jetstream(timeout=timeout_s)
            try:
                info = await js.stream_info(stream)
            except NotFoundError:
                return 0
            last = int(info.state.last_seq or 0)
            if last == 0:
                return 0
            msg = await js.get_msg(stream, last)
            msg_id = (msg.headers or {}).get("Nats-Msg-Id")
            return int(msg_id) if msg_id and str(msg_id).isdigit() else 0
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    return asyncio.run(ask())
