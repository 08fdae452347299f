"""`yibao serve` as its operators run it (issue 22): a supervisor with gateway processes on one
port and the replica applier in its own process (restarted after kill -9, stopped together);
`--workers` refused on SQLite and on a bad value with one line; two gateway processes on
MariaDB answering calls with distinct ids."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "settlement"))

from settle_factories import (
    HOSP,
    His,
    Person,
    register_input,
    seed_catalog,
    seed_institution,
    seed_person,
)

from yibao.cli.supervise import CLI, free_port
from yibao.replica import heartbeat
from yibao.replica.lock import TOKEN_HEADER, running_owner
from yibao.storage.engine import make_null_engine

pytestmark = pytest.mark.slow

_MSGIDS = His(None, HOSP, "", "")


def _env(data_dir: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env.update({"YIBAO_DATA_DIR": str(data_dir), "YIBAO_DATABASE_URL": url, **extra})
    return env


def _seed(url: str) -> tuple[str, str, list[Person]]:
    engine = make_null_engine(url)
    try:
        with engine.begin() as conn:
            paasid, secret = seed_institution(conn, HOSP)
            seed_catalog(conn)
            people = [
                seed_person(conn, Person(f"P{i:04d}", f"1101011990030{i:04d}1"))
                for i in range(1, 5)
            ]
    finally:
        engine.dispose()
    return paasid, secret, people


class Served:
    """`yibao serve` in a child process."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = Path(env["YIBAO_DATA_DIR"]) / "serve.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*CLI, "serve", "--port", str(self.port), *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 90.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                answer = httpx.get(f"{self.url}/readyz", timeout=5)
                last = answer.text
                if answer.status_code == 200:
                    body: dict[str, Any] = answer.json()
                    return body
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.1)
        raise AssertionError(f"not ready: {last}; log: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def _register(
    url: str, paasid: str, secret: str, people: list[Person], n: int
) -> list[tuple[str, str]]:
    """n registrations over separate connections; (mdtrt_id, x-request-id) of each."""
    out: list[tuple[str, str]] = []

    async def one(i: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            his = His(client, HOSP, paasid, secret)
            envelope = his.envelope(
                "2201",
                register_input(people[i % len(people)], ipt_otp_no=f"O{i:05d}"),
                msgid=_MSGIDS.msgid(),  # one sequence across the clients
            )
            answer = await client.post(
                his.PATH, content=json.dumps(envelope), headers=his.headers()
            )
            body = answer.json()
            assert body["infcode"] == 0, body["err_msg"]
            out.append((str(body["output"]["data"]["mdtrt_id"]), answer.headers["x-request-id"]))

    await asyncio.gather(*(one(i) for i in range(n)))
    return out


def _replica_status(served: Served, data_dir: Path) -> dict[str, Any]:
    owner = running_owner(data_dir)
    assert owner is not None
    answer = httpx.get(
        f"{served.url}/api/v1/replica/status", headers={TOKEN_HEADER: owner.token}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


def _wait_applied(served: Served, data_dir: Path, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = _replica_status(served, data_dir)
        if status["applied_seq"] >= status["latest_seq"] > 0:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def test_workers_bad_values_stop_with_one_line(tmp_path: Path, sqlite_url: str) -> None:
    env = _env(tmp_path / "data", sqlite_url)
    for args, expected in (
        (["--workers", "2"], "SQLite"),
        (["--workers", "abc"], "--workers"),
        (["--workers", "0"], "--workers"),
        (["--workers", "99"], "--workers"),
    ):
        done = subprocess.run(
            [*CLI, "serve", *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 1, done
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        text = " ".join(lines)
        assert expected in text, text
        assert "Traceback" not in text
        assert len(lines) <= 2, lines  # one message (the terminal may wrap it once)
    done = subprocess.run(
        [*CLI, "serve"],
        env={**env, "YIBAO_WORKERS": "many"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "workers" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


@pytest.fixture
def sqlite_served(
    tmp_path: Path, sqlite_url: str
) -> Iterator[tuple[Served, Path, tuple[str, str, list[Person]]]]:
    data_dir = Path(sqlite_url.removeprefix("sqlite:///")).parent
    seeded = _seed(sqlite_url)
    served = Served(_env(data_dir, sqlite_url))
    try:
        yield served, data_dir, seeded
    finally:
        served.stop()


async def test_applier_runs_in_its_own_process_and_is_restarted_after_kill(
    sqlite_served: tuple[Served, Path, tuple[str, str, list[Person]]],
) -> None:
    served, data_dir, (paasid, secret, people) = sqlite_served
    ready = served.wait_ready()
    supervisor = served.proc.pid
    children = _children(supervisor)
    assert len(children) == 2  # one gateway, one analytics process
    beat = heartbeat.read(data_dir)
    assert beat is not None and beat.pid in children
    assert ready["checks"]["replica"]["process"] == f"pid {beat.pid}"
    gateway_pid = httpx.get(f"{served.url}/healthz").json()["pid"]
    assert gateway_pid in children and gateway_pid != beat.pid

    await _register(served.url, paasid, secret, people, 3)
    # the applier (woken by the gateway's commits) applies them; the analytics API is
    # answered by its process through the gateway
    first = _wait_applied(served, data_dir)
    assert first["applier"]["running"] is True

    os.kill(beat.pid, signal.SIGKILL)
    deadline = time.monotonic() + 90
    while True:
        again = heartbeat.read(data_dir)
        if again is not None and again.pid != beat.pid and again.alive:
            break
        assert time.monotonic() < deadline, served.log.read_text()[-3000:]
        time.sleep(0.1)
    served.wait_ready()
    assert httpx.get(f"{served.url}/healthz").json()["pid"] == gateway_pid  # untouched
    await _register(served.url, paasid, secret, people, 2)
    second = _wait_applied(served, data_dir)
    assert second["applied_seq"] > first["applied_seq"]

    everyone = _children(supervisor)
    served.stop()
    assert served.proc.returncode == 0
    assert not [pid for pid in everyone if _alive(pid)]  # stopped together


@pytest.mark.mysql
async def test_two_gateway_workers_on_mariadb_answer_with_distinct_ids(
    tmp_path: Path, mysql_empty: str
) -> None:
    paasid, secret, people = _seed(mysql_empty)
    data_dir = tmp_path / "data"
    served = Served(_env(data_dir, mysql_empty, YIBAO_WORKERS="2"))
    try:
        served.wait_ready()
        children = _children(served.proc.pid)
        assert len(children) == 3  # two gateways and the analytics process
        answered = await _register(served.url, paasid, secret, people, 24)
        ids = [mdtrt_id for mdtrt_id, _ in answered]
        assert len(set(ids)) == len(ids) == 24
        workers = {int(rid.split("-")[0], 16) for _, rid in answered}
        assert workers <= children
        assert len(workers) == 2, workers  # both gateway processes answered
        metrics = httpx.get(f"{served.url}/metrics").text
        total = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith('yibao_calls_total{infcode="0",infno="2201"}')
        )
        assert total == 24  # one figure for both processes
    finally:
        served.stop()
