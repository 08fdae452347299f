"""A private MariaDB for the campaign's MySQL stage: its own data directory, socket and free
port — never a shared server — started, killed (SIGKILL), frozen (SIGSTOP) and thawed
(SIGCONT) at will. Needs `mariadbd` and `mariadb-install-db` (Debian: `apt-get install
mariadb-server`); `available()` says whether they are installed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pymysql

from yibao.bench.faults.server import free_port
from yibao.errors import ConfigError

MARIADBD = shutil.which("mariadbd") or shutil.which("mysqld", path="/usr/sbin:/usr/bin")
INSTALL_DB = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")


def available() -> bool:
    return MARIADBD is not None and INSTALL_DB is not None


class MariaDB:
    """`mariadbd` in `root` (data directory, socket, pid file and error log), on a free port
    of 127.0.0.1, without grant tables (root, no password): a throwaway instance."""

    def __init__(self, root: Path, database: str = "yibao") -> None:
        if not available():
            raise ConfigError(
                "需要 mariadbd 与 mariadb-install-db (the MySQL stage runs a private MariaDB: "
                "install mariadb-server, or leave out --mysql-outage)"
            )
        self.root = root
        self.database = database
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{self.database}"

    def install(self) -> None:
        """A fresh data directory, then the server started and the database created."""
        self.root.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                str(INSTALL_DB),
                "--no-defaults",
                f"--datadir={self.root / 'data'}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                f"--user={os.environ.get('USER', 'root')}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        self.start()
        conn = pymysql.connect(host="127.0.0.1", port=self.port, user="root")
        try:
            with conn.cursor() as cur:
                cur.execute(
                    f"CREATE DATABASE IF NOT EXISTS {self.database} "
                    "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                )
        finally:
            conn.close()

    def start(self, timeout: float = 120.0) -> float:
        """Start the server and wait until it accepts a connection; seconds that took."""
        args = [
            str(MARIADBD),
            "--no-defaults",
            f"--datadir={self.root / 'data'}",
            f"--socket={self.root / 'sock'}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            "--skip-grant-tables",
            "--max-connections=400",
            f"--pid-file={self.root / 'pid'}",
            f"--log-error={self.root / 'error.log'}",
        ]
        if os.geteuid() == 0:
            args.append("--user=root")
        began = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while time.monotonic() - began < timeout:
            try:
                pymysql.connect(host="127.0.0.1", port=self.port, user="root").close()
                return time.monotonic() - began
            except pymysql.err.OperationalError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        log = self.root / "error.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise ConfigError(f"MariaDB 未能启动 (did not start within {timeout:.0f} s): {tail}")

    def kill(self) -> None:
        """SIGKILL, as when the database machine loses power."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=30)

    def freeze(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def shut(self) -> None:
        self.kill()
        self.proc = None
