"""A server process freezes the heap it has loaded once it has started
(`collector.freeze_startup_heap`): what was alive then is out of the collector's passes, what
is made afterwards is collected as before."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from yibao.kit import collector


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def frozen_heap() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()  # the test process's heap back under the collector
    gc.set_threshold(*threshold)


def _tracked(obj: object) -> bool:
    return any(o is obj for o in gc.get_objects())


def test_what_was_loaded_is_frozen_and_what_comes_after_is_collected(frozen_heap: None) -> None:
    loaded = {"catalog": [1, 2, 3]}
    assert _tracked(loaded)
    moved = collector.freeze_startup_heap()
    assert moved > 0 and gc.get_freeze_count() == moved
    assert not _tracked(loaded)  # in the permanent generation: no pass walks it
    # a reference cycle made while serving is still found and freed by a pass
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    gc.collect()
    assert gone() is None
    gc.unfreeze()
    assert _tracked(loaded)


def test_young_passes_are_spaced_out_yet_still_automatic(frozen_heap: None) -> None:
    default_young, *older = gc.get_threshold()
    collector.freeze_startup_heap()
    young, *now_older = gc.get_threshold()
    assert young == collector.SERVING_YOUNG_THRESHOLD > default_young
    assert now_older == older  # only the young generation's threshold moves
    # no explicit collect: enough new containers trigger an automatic pass that frees a cycle
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    kept = [[] for _ in range(2 * young)]
    assert gone() is None
    assert len(kept) == 2 * young
