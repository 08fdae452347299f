"""A real `yibao serve` process on a free port with a temp data directory, seeded with an
institution, a person, a settlement made today and the administrator (password known)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from seed import ADMIN_PASSWORD, REVIEWER, REVIEWER_PASSWORD, YIBAO, Server, seed_data_dir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    data_dir = tmp_path / "data"
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")},
        "YIBAO_DATA_DIR": str(data_dir),
        "YIBAO_PORT": str(port),
        "YIBAO_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "YIBAO_LOG_LEVEL": "WARNING",
    }
    subprocess.run([str(YIBAO), "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [str(YIBAO), "users", "add", REVIEWER, "--role", "reviewer"],
        env={**env, "YIBAO_NEW_USER_PASSWORD": REVIEWER_PASSWORD},
        check=True,
        capture_output=True,
    )
    psn_no = seed_data_dir(data_dir)
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [str(YIBAO), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(
                    "server did not start:\n" + (tmp_path / "server.log").read_text()
                )
            time.sleep(0.2)
        yield Server(url, data_dir, env, f"sqlite:///{data_dir / 'yibao.db'}", psn_no)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
