"""`yibao serve`'s supervisor (issue 22): a child that exits is started again; a gateway that
keeps failing stops everything (exit 1), an analytics process that keeps failing is retried
later while the gateways go on; SIGTERM stops every child."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading

import pytest

from yibao.cli import supervise

EXIT_AT_ONCE = [sys.executable, "-c", "import sys; sys.exit(3)"]
LONG = [sys.executable, "-c", "import time; time.sleep(600)"]


def test_a_gateway_that_keeps_failing_stops_everything() -> None:
    steady = supervise.Child("steady", LONG, dict(os.environ))
    broken = supervise.Child("gateway 1", EXIT_AT_ONCE, dict(os.environ))
    exited: list[int] = []
    code = supervise.Supervisor([steady, broken], on_exit=exited.append).run(poll_s=0.05)
    assert code == 1
    assert len(broken.starts) == supervise.MAX_RESTARTS + 1
    assert steady.proc is not None and steady.proc.returncode == -signal.SIGTERM  # stopped too
    assert steady.pid in exited


def test_a_failing_analytics_process_is_retried_later_and_sigterm_stops_all() -> None:
    gateway = supervise.Child("gateway 1", LONG, dict(os.environ))
    analytics = supervise.Child(
        "analytics process", EXIT_AT_ONCE, dict(os.environ), essential=False
    )
    backed_off = threading.Event()

    def watch() -> None:
        # once the analytics process waits for its retry, stop the supervisor as an operator would
        while not analytics.retry_at:
            threading.Event().wait(0.05)
        backed_off.set()
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()
    code = supervise.Supervisor([gateway, analytics]).run(poll_s=0.05)
    assert code == 0  # a stop, not a failure
    assert backed_off.is_set()
    assert len(analytics.starts) == supervise.MAX_RESTARTS + 1  # then it waits BACKOFF_S
    assert gateway.proc is not None and gateway.proc.returncode == -signal.SIGTERM
    assert len(gateway.starts) == 1  # the gateway went on all along


def test_listen_refuses_a_port_in_use_after_retrying() -> None:
    first = supervise.listen("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        with pytest.raises(OSError):
            supervise.listen("127.0.0.1", port, attempts=2)
    finally:
        first.close()


def test_each_gateway_gets_its_own_socket_and_a_share_of_the_connections() -> None:
    socks = supervise.listen_each("127.0.0.1", supervise.free_port(), 2)
    clients: list[socket.socket] = []
    try:
        port = socks[0].getsockname()[1]
        assert socks[1].getsockname()[1] == port
        for _ in range(40):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            clients.append(c)
        accepted = []
        for s in socks:
            s.setblocking(False)
            n = 0
            while True:
                try:
                    conn, _ = s.accept()
                except BlockingIOError:
                    break
                conn.close()
                n += 1
            accepted.append(n)
        assert sum(accepted) == 40
        assert min(accepted) > 0, accepted  # the kernel spread them over both
    finally:
        for c in clients:
            c.close()
        for s in socks:
            s.close()


def test_one_gateway_listens_on_one_plain_socket() -> None:
    (sock,) = supervise.listen_each("127.0.0.1", 0, 1)
    try:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 0
    finally:
        sock.close()
