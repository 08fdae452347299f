"""The bulk load runs with the garbage collector's automatic passes off and collects the young
generation itself (`bulk.young_collections_only`): the collector's state is put back
afterwards, whatever it was and however the load ends, and a chunk's reference cycles are
still freed by the worker's pass at the next chunk's start."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from yibao.simulate import bulk


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:  # pragma: no cover - pytest runs with the collector on
        gc.disable()


@bulk.young_collections_only
def _state_inside() -> bool:
    return gc.isenabled()


@bulk.young_collections_only
def _fails() -> None:
    assert not gc.isenabled()
    raise RuntimeError("load failed midway")


def test_automatic_passes_are_off_inside_and_back_on_after(collector_enabled: None) -> None:
    assert _state_inside() is False
    assert gc.isenabled()


def test_the_collector_comes_back_on_when_the_load_fails(collector_enabled: None) -> None:
    with pytest.raises(RuntimeError, match="midway"):
        _fails()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_enabled: None) -> None:
    gc.disable()
    try:
        assert _state_inside() is False
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_decorated_load_keeps_its_name_and_signature() -> None:
    assert bulk.bulk_load.__name__ == "bulk_load"
    assert "settle_until" in bulk.bulk_load.__wrapped__.__code__.co_varnames  # type: ignore[attr-defined]


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: reference counting alone never frees it


def test_a_worker_frees_the_last_chunks_cycles_at_the_next_chunk(
    collector_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`_work` with the worker's collector state (`_init_worker` turns it off): a cycle the
    previous chunk left is gone once the next chunk starts."""

    rows = SimpleNamespace(unsettled_visits=set(), unsettled=0)
    settler = SimpleNamespace(run=lambda _persons, _visits: rows)
    builder = SimpleNamespace(visits=[], labels=[])
    monkeypatch.setitem(bulk._W, "ctx", None)
    monkeypatch.setitem(bulk._W, "settler", settler)
    monkeypatch.setitem(bulk._W, "spool", None)
    monkeypatch.setitem(bulk._W, "chunks", [(0, []), (1, [])])
    monkeypatch.setattr(bulk, "build_chunk", lambda _ctx, _chunk, _persons: builder)
    gc.disable()
    try:
        left = _Node()
        gone = weakref.ref(left)
        del left
        assert gone() is not None  # the automatic passes are off: the cycle stays
        bulk._work(1)
        assert gone() is None
    finally:
        gc.enable()
