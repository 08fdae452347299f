"""The collector's passes in a server process, by generation: count and thread CPU seconds.

Put this directory first on the server's PYTHONPATH and name an output prefix:
    SERVER_PYTHONPATH=bench/scripts/gcstats DUR=15 \
        bench/scripts/ab_settle.sh gc1 . GCSTATS_OUT=/tmp/gcs [GCSTATS_THRESHOLD=700,10,10]
Every process then writes `PREFIX.PID` (JSON) each second. The counts restart when the
process freezes its loaded heap (`kit/collector.freeze_startup_heap`), so they cover the
serving phase only; GCSTATS_THRESHOLD, if given, replaces the threshold set at that moment.
A measuring aid, never shipped with the server.
"""

import os

_OUT = os.environ.get("GCSTATS_OUT")
if _OUT:
    import gc
    import json
    import sys
    import threading
    import time

    _threshold = os.environ.get("GCSTATS_THRESHOLD")
    _passes = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    _started = [0.0]

    def _on_pass(phase, info):
        if phase == "start":
            _started[0] = time.thread_time()
        else:
            entry = _passes[info["generation"]]
            entry[0] += 1
            entry[1] += time.thread_time() - _started[0]

    _freeze = gc.freeze

    def _freeze_and_restart():
        _freeze()
        for entry in _passes.values():
            entry[0], entry[1] = 0, 0.0
        if _threshold:
            gc.set_threshold(*(int(v) for v in _threshold.split(",")))
            gc.set_threshold = lambda *_: None  # the server's own setting gives way to ours

    def _write_every_second():
        while True:
            time.sleep(1)
            figures = {
                "argv": " ".join(sys.argv)[-60:],
                "threshold": gc.get_threshold(),
                **{str(g): {"passes": n, "cpu_s": round(s, 4)} for g, (n, s) in _passes.items()},
            }
            with open(f"{_OUT}.{os.getpid()}", "w") as f:
                json.dump(figures, f)

    gc.callbacks.append(_on_pass)
    gc.freeze = _freeze_and_restart
    threading.Thread(target=_write_every_second, daemon=True).start()
