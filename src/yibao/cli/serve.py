"""`yibao serve` — the HTTP server: a supervisor, the analytics process and N gateway processes
(`yibao.cli.supervise`; docs/operations.md)."""

from __future__ import annotations

import shutil
import socket
import tempfile
from typing import Any

import typer
import uvicorn

from yibao.api.app import create_app
from yibao.cli import supervise
from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.config import Settings
from yibao.kit import collector
from yibao.obs import metrics
from yibao.replica import wake
from yibao.risk.params_io import RuleFileError, load_ruleset
from yibao.runtime import open_platform
from yibao.storage.engine import make_null_engine
from yibao.storage.migrate import current_revision, head_revision

ROLES = ("main", "gateway", "analytics")
MAX_WORKERS = 32


def parse_workers(text: str | None, default: int) -> int:
    """`--workers` as a number of processes; a bad value stops with one line."""
    if text is None:
        return default
    try:
        value = int(text.strip())
    except ValueError:
        fail(
            f"--workers 应为 1 到 {MAX_WORKERS} 的整数 (must be a whole number 1..{MAX_WORKERS}; got '{text}')"
        )
    if not 1 <= value <= MAX_WORKERS:
        fail(
            f"--workers 应为 1 到 {MAX_WORKERS} 的整数 (must be within 1..{MAX_WORKERS}; got {value})"
        )
    return value


def _check_schema(cfg: Settings) -> None:
    engine = make_null_engine(cfg.db_url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    if current != head_revision():
        fail("数据库未初始化或需升级 (schema missing or old): run `yibao init`")


def _check_rules(cfg: Settings) -> None:
    """The rule base's parameter files are read before serving: one that does not validate
    stops the server with one line naming the file and the field (docs/review.md)."""
    try:
        load_ruleset([cfg.data_dir])
    except RuleFileError as exc:
        fail(f"规则参数文件无效 (rule parameter file invalid): {exc}")


def _uvicorn(application: Any, cfg: Settings, **where: Any) -> uvicorn.Server:
    config = uvicorn.Config(
        application,
        log_level=cfg.log_level.lower(),
        log_config=None,  # the process's logging is obs.logs (text or JSON lines)
        access_log=False,
        http="httptools",
        loop="uvloop",
        timeout_keep_alive=30,
        proxy_headers=False,
        server_header=False,
        **where,
    )
    return uvicorn.Server(config)


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option(
            None, help="Address to listen on (default from settings: 127.0.0.1)."
        ),
        port: int = typer.Option(None, help="Port (default from settings: 8000)."),
        workers: str = typer.Option(
            None,
            "--workers",
            metavar="N",
            help="Gateway processes on the one port (default YIBAO_WORKERS or 1). More than "
            "one needs a MySQL-protocol store (MariaDB, MySQL, TiDB): SQLite has one writer.",
            show_default=False,
        ),
        single_process: bool = typer.Option(
            False,
            "--single-process",
            help="Run the gateway and the replica applier in this one process, unsupervised "
            "(debugging, profiling; one worker only).",
        ),
        role: str = typer.Option("main", hidden=True),
        listen_fd: int = typer.Option(-1, hidden=True),
        analytics_url: str = typer.Option(None, hidden=True),
    ) -> None:
        """Serve the national interface, the console API and the dashboard.

        Supervises N gateway processes on one port (--workers) and one
        analytics process that owns the columnar replica and answers the
        dashboards. A process that crashes is started again; Ctrl-C or
        SIGTERM stops them all. Probes: GET /healthz, GET /readyz,
        GET /metrics (docs/operations.md).
        """
        if role not in ROLES:
            fail(f"--role: unknown role '{role}'")
        cfg = settings()
        host = host or cfg.host
        port = port or cfg.port
        if role == "gateway":
            _gateway(cfg, listen_fd, analytics_url)
            return
        if role == "analytics":
            _analytics(cfg.model_copy(update={"host": host, "port": port}))
            return
        count = parse_workers(workers, cfg.workers)
        # The effective address belongs to the settings: the replica's lock file tells
        # `yibao replica …` where this server answers.
        cfg = cfg.model_copy(update={"host": host, "port": port, "workers": count})
        with friendly_errors():
            if count > 1 and cfg.is_sqlite:
                fail(
                    f"--workers {count}: SQLite 只允许一个写入进程 (one writer owns the SQLite "
                    "file): run one worker, or use a MySQL-protocol store (YIBAO_DATABASE_URL="
                    "mysql+pymysql://…) for several"
                )
            _check_schema(cfg)
            _check_rules(cfg)
            analytics = cfg.replica_enabled
            nodes = count + (1 if analytics else 0)
            if cfg.node_id + nodes > 32:
                fail(
                    f"YIBAO_NODE_ID {cfg.node_id} + {nodes} processes passes 31: the processes "
                    f"take node ids {cfg.node_id}..{cfg.node_id + nodes - 1} (lower "
                    "YIBAO_NODE_ID or --workers)"
                )
            if single_process and count > 1:
                fail(f"--single-process runs one gateway; drop --workers {count}")
            if single_process or (count == 1 and not analytics):
                _single(cfg)
                return
            _supervise(cfg, count, analytics)


def _single(cfg: Settings) -> None:
    """Everything in this process (the replica too): the replica disabled, or for debugging."""
    platform = open_platform(cfg)
    application = create_app(cfg, platform=platform)
    application.state.on_start.append(collector.freeze_startup_heap)
    console.print(
        f"yibao 正在服务 serving on http://{cfg.host}:{cfg.port}  "
        f"(backend {platform.db.backend.name}, one process)"
    )
    _uvicorn(application, cfg, host=cfg.host, port=cfg.port).run()


def _supervise(cfg: Settings, count: int, analytics: bool) -> None:
    try:
        socks = supervise.listen_each(cfg.host, cfg.port, count)
    except OSError as exc:
        fail(
            f"无法监听 {cfg.host}:{cfg.port} (cannot listen: {exc.strerror}); is another server running?"
        )
    metrics_dir = tempfile.mkdtemp(prefix="yibao-metrics-")
    base = {metrics.MULTIPROC_ENV: metrics_dir}
    children: list[supervise.Child] = []
    internal_url = None
    if analytics:
        internal = supervise.free_port()
        internal_url = f"http://127.0.0.1:{internal}"
        children.append(
            supervise.Child(
                "analytics process",
                [
                    *supervise.CLI,
                    *("serve", "--role", "analytics", "--host", "127.0.0.1"),
                    *("--port", str(internal)),
                ],
                supervise.child_env({**base, "YIBAO_NODE_ID": str(cfg.node_id + count)}),
                essential=False,
            )
        )
    for i, sock in enumerate(socks):
        argv = [*supervise.CLI, "serve", "--role", "gateway", "--listen-fd", str(sock.fileno())]
        if internal_url:
            argv += ["--analytics-url", internal_url]
        children.append(
            supervise.Child(
                f"gateway {i + 1}",
                argv,
                supervise.child_env({**base, "YIBAO_NODE_ID": str(cfg.node_id + i)}),
                pass_fds=(sock.fileno(),),
            )
        )
    console.print(
        f"yibao 正在服务 serving on http://{cfg.host}:{cfg.port}  ({count} gateway "
        f"process{'es' if count > 1 else ''}"
        + (f", analytics process on {internal_url}" if internal_url else "")
        + ")"
    )
    try:
        code = supervise.Supervisor(
            children, on_exit=lambda pid: metrics.process_exited(pid, metrics_dir)
        ).run()
    finally:
        for sock in socks:
            sock.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
    if code:
        raise typer.Exit(code)


def _gateway(cfg: Settings, listen_fd: int, analytics_url: str | None) -> None:
    if listen_fd < 0:
        fail("--role gateway needs --listen-fd (started by `yibao serve`)")
    sock = socket.socket(fileno=listen_fd)
    with friendly_errors():
        platform = open_platform(cfg)
        if analytics_url:
            # after each commit, wake the analytics process's applier (a datagram; no wait)
            target = analytics_url.rsplit(":", 1)
            platform.db.writer.on_commit(wake.Notifier("127.0.0.1", int(target[1])))
        application = create_app(cfg, platform=platform, analytics_url=analytics_url)
    # the loaded platform out of the collector's passes, once every start hook has run
    application.state.on_start.append(collector.freeze_startup_heap)
    _uvicorn(application, cfg).run(sockets=[sock])


def _analytics(cfg: Settings) -> None:
    with friendly_errors():
        platform = open_platform(cfg)
        application = create_app(cfg, platform=platform)
    listener: list[wake.Listener] = []

    def start_wake() -> None:
        replica = platform.replica
        if replica is not None:
            # analytic reads yield the cores to settlement; the applier keeps its priority
            replica.store.reader_nice = cfg.analytics_nice
            found = wake.Listener("127.0.0.1", cfg.port, replica.applier.wake)
            found.start()
            listener.append(found)

    def stop_wake() -> None:
        for found in listener:
            found.stop()

    # after the replica is served (the analytics mount's start hook runs first)
    application.state.on_start.append(start_wake)
    application.state.on_start.append(collector.freeze_startup_heap)
    application.state.on_stop.insert(0, stop_wake)
    _uvicorn(application, cfg, host=cfg.host, port=cfg.port).run()
