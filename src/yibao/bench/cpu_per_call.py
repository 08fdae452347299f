"""The server's CPU per call, read from /proc, around one benchmark run.

`yibao serve` is a supervisor and its children (`serve --role gateway` …, `serve --role
analytics`, which runs the replica applier). This reads the user + system CPU of each process
of the tree from `/proc/<pid>/stat` before and after a command — normally `yibao bench
settle --json FILE` — and divides the difference by the calls the run counted (the sum of
`per_transaction[*].calls` in its JSON):

    python -m yibao.bench.cpu_per_call --pid $(cat serve.pid) --json settle.json -- \\
        yibao bench settle --duration 10 --ceiling-seconds 0 --raw-commit-seconds 0 \\
        --json settle.json

prints `{"calls": …, "cpu_ms_per_call": {"gateway": …, "analytics": …, "supervisor": …},
"cpu_ms_per_call_total": …}`. Set `--ceiling-seconds 0 --raw-commit-seconds 0` on the run:
the driver-ceiling run hits the server too and its pings would count as CPU without calls.
Linux only; the driver's own CPU is not the server's and is left out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_stat(text: str) -> float:
    """CPU seconds (utime + stime) from the text of `/proc/<pid>/stat`; the command name in
    parentheses may hold spaces, so the fields are counted after its closing parenthesis."""
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def role(cmdline: str) -> str:
    """gateway | analytics | supervisor, from a process's command line."""
    for name in ("gateway", "analytics"):
        if f"--role {name}" in cmdline:
            return name
    return "supervisor"


def _tree(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            todo += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            continue
    return found


def snapshot(root: int) -> dict[int, tuple[str, float]]:
    """(role, CPU seconds) of every live process of the tree under `root`."""
    out: dict[int, tuple[str, float]] = {}
    for pid in _tree(root):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            out[pid] = (role(cmd), parse_stat(Path(f"/proc/{pid}/stat").read_text()))
        except OSError:
            continue  # exited meanwhile
    return out


def per_call(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], calls: int
) -> dict[str, Any]:
    """CPU ms per call by role; a process born during the run counts from zero."""
    by_role: dict[str, float] = {}
    for pid, (name, cpu) in after.items():
        by_role[name] = by_role.get(name, 0.0) + cpu - before.get(pid, (name, 0.0))[1]
    if calls <= 0:
        raise ValueError("the run counted no calls: nothing to divide by")
    return {
        "calls": calls,
        "cpu_ms_per_call": {k: round(v * 1000 / calls, 3) for k, v in sorted(by_role.items())},
        "cpu_ms_per_call_total": round(sum(by_role.values()) * 1000 / calls, 3),
    }


def calls_of(result: dict[str, Any]) -> int:
    return sum(int(t.get("calls", 0)) for t in result.get("per_transaction", {}).values())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--pid", type=int, required=True, help="the `yibao serve` supervisor's pid")
    ap.add_argument("--json", type=Path, required=True, help="the JSON file the run writes")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="the run, after `--`")
    args = ap.parse_args(argv)
    command = [c for c in args.command if c != "--"]
    if not command:
        ap.error("give the benchmark command after `--`")
    before = snapshot(args.pid)
    subprocess.run(command, check=True)
    after = snapshot(args.pid)
    result = json.loads(args.json.read_text())
    print(json.dumps(per_call(before, after, calls_of(result)), indent=1))


if __name__ == "__main__":
    main()
