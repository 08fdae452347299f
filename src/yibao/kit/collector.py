"""Python's cyclic garbage collector: for code that makes objects far faster than it drops
them (the bulk load: `yibao.simulate.bulk`), and for server processes that keep what they
loaded at start for their whole life (`yibao serve`)."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")


def young_collections_only(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `fn` with the collector's automatic passes off (the previous state restored after,
    however `fn` ends); `fn` calls `gc.collect(0)` itself where the objects it made are done.

    Why: while objects pile up (a bulk load's chunk of visits, lines and splits all live until
    its rows are written) every automatic pass finds nothing, and the oldest generation's
    passes walk the whole heap again and again, a large share of the load's CPU (figures:
    bench/RESULTS.md; `python -m yibao.bench.bulk_worker` shows it). Reference counting
    frees nearly everything; the few reference cycles left are young, so one young-generation
    pass at each natural boundary (the objects made since the last) finds them."""

    @functools.wraps(fn)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused


#: a serving process's young-generation threshold (net container allocations between automatic
#: passes; CPython's default is 700)
SERVING_YOUNG_THRESHOLD = 10_000


def freeze_startup_heap() -> int:
    """Collect once, then move every object alive now out of the collector's reach
    (`gc.freeze`), and space the young passes out (`SERVING_YOUNG_THRESHOLD`); the count
    moved.

    Why: a server process loads its platform — the catalogs and their code tables, the policy
    book, the compiled statements, the modules — and keeps it for its life. The collector's
    oldest-generation passes walked all of it every time, a stop-the-world pause of the event
    loop and the writer alike. Frozen, those objects are never examined again; what the
    process makes while serving is collected as before. The price: a reference cycle among them
    dropped later is never freed (docs/operations.md, "Processes"). Call it once, when the
    server has started.

    Why the threshold: with some thirty calls in flight their objects are alive at most passes
    of the default threshold, so each pass walks and promotes them only for reference counting
    to free them a moment later; at 10,000 the young passes become rare (a few milliseconds
    each) and the older generations' passes with them. A cycle made while serving waits a
    little longer to be freed: a bounded amount of memory."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(SERVING_YOUNG_THRESHOLD, middle, oldest)
    return gc.get_freeze_count()
