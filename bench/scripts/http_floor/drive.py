"""POST a 2 KB body N times over 32 keep-alive connections (the benchmark's raw client) and
print the server's CPU per request, read from /proc/PID/stat.

    python drive.py PORT N PID
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from yibao.bench.cpu_per_call import parse_stat
from yibao.bench.http import RawConnection

BODY = b'{"infno":"2204","input":{"x":"' + b"y" * 2000 + b'"}}'


def cpu(pid: int) -> float:
    return parse_stat(Path(f"/proc/{pid}/stat").read_text())


async def client(port: int, count: int) -> None:
    conn = RawConnection(f"http://127.0.0.1:{port}")
    for _ in range(count):
        status, _body = await conn.request("POST", "/fsi/api/x", BODY, {"x-tif-paasid": "p"})
        if status != 200:
            raise SystemExit(f"HTTP {status}")
    await conn.close()


async def main(port: int, n: int, pid: int) -> None:
    await asyncio.gather(*(client(port, 200) for _ in range(32)))  # warm up
    c0, t0 = cpu(pid), time.perf_counter()
    await asyncio.gather(*(client(port, n // 32) for _ in range(32)))
    seconds, used = time.perf_counter() - t0, cpu(pid) - c0
    print(
        f"port {port}: {n / seconds:.0f} requests/s, server CPU {1e6 * used / n:.1f} µs a request"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
