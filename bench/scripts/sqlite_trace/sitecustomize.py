"""Loaded by `bench/scripts/statements_sqlite.sh` (on PYTHONPATH): with YIBAO_TRACE_OUT set,
every SQLite connection a yibao process opens counts the statements it runs, by thread (the
writer, the event loop, others) and by text (its literals as `?`), and writes the counts to
`$YIBAO_TRACE_OUT.<pid>` on SIGUSR1. A measuring aid only: never on a served system."""

import os

if os.environ.get("YIBAO_TRACE_OUT"):
    import collections
    import json
    import re
    import signal
    import threading

    from sqlalchemy import Engine, event

    _counts: collections.Counter[tuple[str, str]] = collections.Counter()
    # the driver hands over the statement with its values bound in: take them out again
    _LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")

    def _kind() -> str:
        name = threading.current_thread().name
        if name.startswith("yibao-writer"):
            return "writer"
        return "event loop" if name == "MainThread" else "other"

    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        if hasattr(dbapi_conn, "set_trace_callback"):
            dbapi_conn.set_trace_callback(
                lambda sql: _counts.__setitem__(
                    key := (_kind(), _LITERAL.sub("?", " ".join(sql.split()))[:100]),
                    _counts[key] + 1,
                )
            )

    def _dump(*_args):  # type: ignore[no-untyped-def]
        path = f"{os.environ['YIBAO_TRACE_OUT']}.{os.getpid()}"
        rows = [[kind, text, n] for (kind, text), n in _counts.items()]
        with open(path, "w", encoding="utf-8") as out:
            json.dump(rows, out, ensure_ascii=False)

    event.listen(Engine, "connect", _on_connect)
    signal.signal(signal.SIGUSR1, _dump)
