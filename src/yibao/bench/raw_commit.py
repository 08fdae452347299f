"""`raw-commit`: this machine's plain SQLite durable-commit rate — the yardstick every
throughput figure is compared with.

One transaction = BEGIN IMMEDIATE; INSERT one settlement-like row; INSERT one change-log-like
row; COMMIT — in WAL mode with synchronous=FULL (what the platform uses by default), from one
thread, for the given duration, on the file system of the data directory.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

_SCHEMA = (
    "CREATE TABLE setl (setl_id TEXT PRIMARY KEY, psn_no TEXT NOT NULL, "
    "fixmedins_code TEXT NOT NULL, medfee_sumamt INTEGER NOT NULL, hifp_pay INTEGER NOT NULL, "
    "setl_time TEXT NOT NULL)",
    "CREATE TABLE change_log (seq INTEGER PRIMARY KEY, entity TEXT NOT NULL, "
    "entity_key TEXT NOT NULL, payload TEXT NOT NULL, ts_ms INTEGER NOT NULL)",
)


def measure(directory: Path, seconds: float, *, synchronous: str = "FULL") -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="raw-commit-", dir=directory))
    try:
        db = sqlite3.connect(work / "raw.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        for stmt in _SCHEMA:
            db.execute(stmt)
        payload = '{"setl_id":"%s","medfee_sumamt":12345,"hifp_pay":6789,"psn_no":"P1"}'
        n = 0
        latencies: list[float] = []
        t0 = time.perf_counter()
        deadline = t0 + seconds
        while True:
            start = time.perf_counter()
            if start >= deadline:
                break
            n += 1
            sid = f"S{n:012d}"
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO setl VALUES (?,?,?,?,?,?)",
                (sid, "P1", "H11010500001", 12345, 6789, "2024-01-01 08:00:00"),
            )
            db.execute(
                "INSERT INTO change_log VALUES (?,?,?,?,?)",
                (n, "setl", sid, payload % sid, int(time.time() * 1000)),
            )
            db.execute("COMMIT")
            latencies.append(time.perf_counter() - start)
        elapsed = time.perf_counter() - t0
        db.close()
        latencies.sort()
        return {
            "commits": n,
            "seconds": round(elapsed, 3),
            "commits_per_s": round(n / elapsed, 1) if elapsed > 0 else 0.0,
            "latency_ms": {
                "p50": round(latencies[len(latencies) // 2] * 1000, 3) if latencies else 0.0,
                "p99": round(
                    latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 3
                )
                if latencies
                else 0.0,
            },
            "journal_mode": "wal",
            "synchronous": synchronous,
            "filesystem_dir": str(directory.resolve()),
            "pid": os.getpid(),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
