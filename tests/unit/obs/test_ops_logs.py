"""Structured logs (issue 22): JSON lines with a request id on every line, the level by
setting, and identity numbers and personal fields masked even when code logs them."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
from collections.abc import Iterator

import pytest

from yibao.config import load_settings
from yibao.errors import ConfigError
from yibao.obs import logs


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    root = logging.getLogger()
    level = root.level
    logs.configure("INFO", "json", stream=out)
    yield out
    for handler in [h for h in root.handlers if h.get_name() == "yibao"]:
        root.removeHandler(handler)
    root.setLevel(level)


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_lines_carry_the_request_id(stream: io.StringIO) -> None:
    log = logging.getLogger("yibao.test")
    log.info("outside")
    with logs.request_scope("abc-123") as rid:
        assert rid == "abc-123"
        log.warning("inside %s", "x")
        # a thread started with the request's context carries it too
        import contextvars

        ctx = contextvars.copy_context()
        worker = threading.Thread(target=ctx.run, args=(log.error, "in a thread"))
        worker.start()
        worker.join()
    log.debug("below the level")
    lines = _lines(stream)
    assert [line["msg"] for line in lines] == ["outside", "inside x", "in a thread"]
    assert [line["request_id"] for line in lines] == ["-", "abc-123", "abc-123"]
    assert {line["level"] for line in lines} == {"INFO", "WARNING", "ERROR"}
    assert all(line["logger"] == "yibao.test" and line["ts"] for line in lines)


def test_a_bad_client_request_id_is_replaced() -> None:
    with logs.request_scope('x"\n{injected}') as rid:
        assert rid != 'x"\n{injected}'
        assert logs.request_id.get() == rid
    assert logs.request_id.get() == "-"
    first, second = logs.new_request_id(), logs.new_request_id()
    assert first != second


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_request_ids_stay_apart_in_a_forked_child() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, through the pipe
        os.write(write, logs.new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 100).decode()
    os.close(read)
    mine = logs.new_request_id()
    assert child.split("-")[0] == f"{pid:x}"
    assert mine.split("-")[0] == f"{os.getpid():x}" != child.split("-")[0]


def test_personal_data_is_masked(stream: io.StringIO) -> None:
    log = logging.getLogger("yibao.test")
    log.info("looked up 110101199003074514 for %s", "someone")
    log.info("payload {'psn_no': 'P0001', 'certno': '11010119900307451X', 'psn_name': '张三'}")
    log.info('psn_no=P0002 other=1 "certno": "abc"')
    try:
        raise ValueError("bad certno 110101199003074514")
    except ValueError:
        log.exception("failed")
    text = stream.getvalue()
    for secret in ("110101199003074514", "11010119900307451X", "P0001", "P0002", "张三", '"abc"'):
        assert secret not in text
    lines = _lines(stream)
    assert "other=1" in str(lines[2]["msg"])
    assert "ValueError" in str(lines[3]["exc"])


def test_text_format_has_the_request_id() -> None:
    out = io.StringIO()
    logs.configure("WARNING", "text", stream=out)
    try:
        with logs.request_scope("rid-7"):
            logging.getLogger("yibao.t").warning("hello")
        logging.getLogger("yibao.t").info("hidden")
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "yibao"]:
            root.removeHandler(handler)
    assert "[rid-7]: hello" in out.getvalue()
    assert "hidden" not in out.getvalue()


def test_settings_refuse_an_unknown_level_or_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError, match="log_level"):
        load_settings()
    monkeypatch.setenv("YIBAO_LOG_LEVEL", "debug")
    monkeypatch.setenv("YIBAO_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="log_format"):
        load_settings()
    monkeypatch.setenv("YIBAO_LOG_FORMAT", "json")
    loaded = load_settings()
    assert (loaded.log_level, loaded.log_format) == ("DEBUG", "json")
