"""The server under test as a child process: started, killed with SIGKILL, started again —
the whole server (the supervisor; the kernel takes its processes with it) or only the replica
applier's process, which the supervisor starts again.

The child is `yibao serve` in its own data directory (`YIBAO_DATA_DIR`), its output kept in
`<data_dir>/serve.log` so a failed start can be read afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from yibao.errors import ConfigError
from yibao.replica import heartbeat

#: the CLI as a child process of this interpreter (the same venv and PYTHONPATH)
CLI = (sys.executable, "-c", "from yibao.cli.main import app; app()")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(data_dir: Path, port: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The campaign's own city: a database URL of the caller's environment (perhaps a shared
    MariaDB) is never used — SQLite in `data_dir`, unless `extra` names the campaign's own
    database (the MySQL stage's private MariaDB) and its settings."""
    env = {k: v for k, v in os.environ.items() if k != "YIBAO_DATABASE_URL"}
    env.update({"YIBAO_DATA_DIR": str(data_dir), "YIBAO_PORT": str(port)})
    env.update(extra or {})
    return env


def run_cli(
    data_dir: Path,
    port: int,
    *args: str,
    timeout: float = 900.0,
    extra: Mapping[str, str] | None = None,
) -> str:
    """One `yibao …` command in the campaign's data directory; its output, or ConfigError."""
    done = subprocess.run(
        [*CLI, *args],
        env=child_env(data_dir, port, extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise ConfigError(
            f"`yibao {' '.join(args)}` 失败 (failed, exit {done.returncode}): "
            f"{(done.stdout + done.stderr)[-2000:]}"
        )
    return done.stdout


def replica_verify(data_dir: Path, port: int, extra: Mapping[str, str] | None = None) -> bool:
    """`yibao replica verify` against the running server: exit 0 means consistent."""
    done = subprocess.run(
        [*CLI, "replica", "verify", "--json"],
        env=child_env(data_dir, port, extra),
        capture_output=True,
        timeout=600,
        check=False,
    )
    return done.returncode == 0


class Server:
    """`yibao serve` on `port`, owned by the campaign."""

    def __init__(self, data_dir: Path, port: int, extra: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = port
        #: settings for the child beyond its data directory and port (`child_env`)
        self.extra = dict(extra or {})
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        #: seconds from each start to the first healthy answer
        self.restarts: list[float] = []
        #: seconds from each kill of the applier process to its new process's first beat
        self.applier_restarts: list[float] = []

    def start(self, timeout: float = 120.0) -> float:
        started = time.perf_counter()
        log = (self.data_dir / "serve.log").open("ab")
        try:
            self.proc = subprocess.Popen(
                [*CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=child_env(self.data_dir, self.port, self.extra),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        while time.perf_counter() - started < timeout:
            if self.proc.poll() is not None:
                raise ConfigError(
                    f"yibao serve 退出 (exited {self.proc.returncode}): see "
                    f"{self.data_dir / 'serve.log'}"
                )
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    took = time.perf_counter() - started
                    self.restarts.append(took)
                    return took
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise ConfigError(f"yibao serve 未就绪 (not ready within {timeout:.0f} s)")

    def kill_applier(self, timeout: float = 120.0) -> float | None:
        """SIGKILL the replica applier's own process (`yibao serve` runs it beside the
        gateways) and wait until the supervisor has started it again and it beats; the
        seconds that took, or None when no applier process is running."""
        beat = heartbeat.read(self.data_dir)
        if beat is None or not beat.alive or self.proc is None or beat.pid == self.proc.pid:
            return None
        started = time.perf_counter()
        os.kill(beat.pid, signal.SIGKILL)
        while time.perf_counter() - started < timeout:
            again = heartbeat.read(self.data_dir)
            if again is not None and again.pid != beat.pid and again.alive:
                took = time.perf_counter() - started
                self.applier_restarts.append(took)
                return took
            time.sleep(0.05)
        raise ConfigError(
            f"副本应用进程未重启 (the applier was not restarted within {timeout:.0f} s)"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when the machine loses power."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None
