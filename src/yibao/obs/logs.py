"""The process's log format: readable text (default) or JSON lines (``YIBAO_LOG_FORMAT=json``),
a request id on every line and the log level from ``YIBAO_LOG_LEVEL``.

- A request id is set by the edge for each request (`request_scope`): the client's
  ``X-Request-Id`` when it is a plain token, else a new one (``<pid>-<counter>``); every line
  logged while the request runs — on the event loop or in a worker thread the request's
  context was copied to — carries it (``request_id``; ``-`` outside a request).
- Personal data stays out: yibao never logs a psn_no, certno or name on purpose; as a second
  guard the formatter masks anything shaped like a resident identity number (18 characters,
  17 digits and a digit or X) and anything after a ``psn_no``/``certno``/``psn_name`` key.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

FORMATS = ("text", "json")

#: the id of the request this code runs for ("-" outside one)
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("yibao_request_id", default="-")

_counter = itertools.count(1)
#: this process's part of a new request id, kept (a system call a request otherwise) and
#: renewed in a forked child, so ids stay apart between the processes of one machine
_process_prefix = f"{os.getpid():x}-"


def _renew_process_prefix() -> None:
    global _process_prefix
    _process_prefix = f"{os.getpid():x}-"


os.register_at_fork(after_in_child=_renew_process_prefix)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_CERTNO = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z])")
_PERSONAL = re.compile(
    r"""(?P<key>["']?(?:psn_no|certno|psn_cert_no|psn_name|certNo|psnNo)["']?\s*[:=]\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s,;)}\]]+)"""
)
_MASK = "***"


def new_request_id(offered: str | None = None) -> str:
    """The client's id when it is a plain token (letters, digits, ``._:-``, ≤ 64), else a new
    one unique in this machine's processes."""
    if offered and _CLIENT_ID.match(offered):
        return offered
    return f"{_process_prefix}{next(_counter):x}"


@contextmanager
def request_scope(offered: str | None = None) -> Iterator[str]:
    """Run the block as one request: its log lines carry the (new or offered) request id."""
    token = request_id.set(new_request_id(offered))
    try:
        yield request_id.get()
    finally:
        request_id.reset(token)


def scrub(text: str) -> str:
    """`text` with identity numbers and personal fields masked."""
    if not text:
        return text
    text = _PERSONAL.sub(lambda m: m.group("key") + _MASK, text)
    return _CERTNO.sub(_MASK, text)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (for the text format's ``%(request_id)s``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ms), level, logger, request_id, pid, msg and, for
    an exception, its type and traceback (``exc``)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or request_id.get(),
            "pid": record.process,
            "msg": scrub(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc"] = scrub(record.exc_text)
        return json.dumps(entry, ensure_ascii=False)


def level_of(name: str) -> int:
    """The logging level named `name` (DEBUG, INFO, WARNING, ERROR, CRITICAL); ValueError else."""
    level = logging.getLevelName(name.strip().upper())
    if not isinstance(level, int):
        raise ValueError(f"unknown log level '{name}' (use DEBUG, INFO, WARNING or ERROR)")
    return level


def configure(level: str = "INFO", fmt: str = "text", *, stream: Any = None) -> None:
    """Route the root logger (and uvicorn's) to one handler on stderr in `fmt` at `level`.
    Idempotent: a second call replaces the handler."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format '{fmt}' (use text or json)")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    handler.set_name("yibao")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "yibao"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_of(level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Alembic's per-migration chatter and httpx's line per request (the analytics proxy, the
    # replica commands) are noise; their warnings still show.
    for noisy in ("alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
