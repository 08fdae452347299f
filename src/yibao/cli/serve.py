"""`yibao serve` — the HTTP server."""

from __future__ import annotations

import typer
import uvicorn

from yibao.api.app import create_app
from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.risk.params_io import RuleFileError
from yibao.runtime import open_platform
from yibao.storage.engine import make_null_engine
from yibao.storage.migrate import current_revision, head_revision


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option(
            None, help="Address to listen on (default from settings: 127.0.0.1)."
        ),
        port: int = typer.Option(None, help="Port (default from settings: 8000)."),
    ) -> None:
        """Serve the national interface, the console API and the dashboard.

        On SQLite one process owns the data directory: it runs the single writer (group
        commit) and the replica applier. Stop it with Ctrl-C.
        """
        cfg = settings()
        host = host or cfg.host
        port = port or cfg.port
        # The effective address belongs to the settings: the replica's lock file tells
        # `yibao replica …` where this server answers.
        cfg = cfg.model_copy(update={"host": host, "port": port})
        with friendly_errors():
            engine = make_null_engine(cfg.db_url)
            try:
                current = current_revision(engine)
            finally:
                engine.dispose()
            if current != head_revision():
                console.print(
                    "[red]数据库未初始化或需升级 (schema missing or old): run `yibao init`[/]"
                )
                raise typer.Exit(1)
            platform = open_platform(cfg)
            try:
                # the rule base's parameter files are read now: one that does not validate
                # stops the server with one line naming the file and the field
                platform.reviewer  # noqa: B018
            except RuleFileError as exc:
                platform.close()
                fail(f"规则参数文件无效 (rule parameter file invalid): {exc}")
            application = create_app(cfg, platform=platform)
        console.print(
            f"yibao 正在服务 serving on http://{host}:{port}  (backend {platform.db.backend.name})"
        )
        uvicorn.run(
            application,
            host=host,
            port=port,
            log_level=cfg.log_level.lower(),
            access_log=False,
            http="httptools",
            loop="uvloop",
            timeout_keep_alive=30,
            proxy_headers=False,
            server_header=False,
        )
