"""Samples of a py-spy raw profile (`py-spy record -f raw --threads`) by area of yibao.

    python bench/scripts/areas.py PROFILE.raw [THREAD,THREAD…]

Each sample counts once, under the innermost area its stack passes through (SQL inside the
driver beats the settlement code that issued it); only the named threads count (default: all).
"""

from __future__ import annotations

import collections
import re
import sys

AREAS = [
    (
        "SQL inside SQLite and the driver",
        re.compile(
            r"sqlite3|storage/prepared|_commit_batch \(yibao/storage/writer|sqlalchemy/engine|pymysql|MySQLdb"
        ),
    ),
    ("review", re.compile(r"yibao/review/")),
    ("policy", re.compile(r"yibao/policy/")),
    ("settlement services", re.compile(r"yibao/settlement/")),
    ("catalog", re.compile(r"yibao/catalog/")),
    ("JSON", re.compile(r"orjson|yibao/kit/jsonx|json/")),
    ("interface (pipeline, parsing, signatures)", re.compile(r"yibao/interface/")),
    ("HTTP and the event loop", re.compile(r"uvicorn|starlette|h11|httptools|asyncio|yibao/api/")),
    ("metrics and logs", re.compile(r"prometheus|yibao/obs/|logging/")),
]


def main(path: str, threads: list[str] | None) -> None:
    counts: collections.Counter[str] = collections.Counter()
    by_thread: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path, encoding="utf-8") as raw:
        for line in raw:
            stack, _, n = line.rstrip().rpartition(" ")
            frames = stack.split(";")
            if threads and not any(t in frames[0] for t in threads):
                continue
            samples = int(n)
            total += samples
            by_thread[frames[0].split(": ", 1)[-1]] += samples
            area = "other"
            for frame in reversed(frames[1:]):
                found = next((name for name, rx in AREAS if rx.search(frame)), None)
                if found:
                    area = found
                    break
            counts[area] += samples
    if not total:
        sys.exit("no samples (was the gateway busy? is py-spy allowed to attach?)")
    print(f"{total} samples;", ", ".join(f"{t} {n}" for t, n in by_thread.most_common()))
    for area, n in counts.most_common():
        print(f"{100 * n / total:5.1f} %  {area}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2].split(",") if len(sys.argv) > 2 else None)
