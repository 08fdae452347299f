"""`yibao demo` — the demo city (the simulator's small fixed-seed city)."""

from __future__ import annotations

import typer

from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.setup import init as init_data_dir
from yibao.simulate.demo import DEMO_PERSONS, load_demo
from yibao.storage.engine import make_engine


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        persons: int = typer.Option(
            DEMO_PERSONS, help="Insured persons of the demo city (at least 100)."
        ),
    ) -> None:
        """Load the demo city: the demo catalog, institutions of every kind and level with
        gateway credentials, a few thousand insured persons of every insurance and person
        type, and a demo agency user. Writes <data_dir>/demo-fixtures.json (owner-readable
        only) for the HIS simulator and the benchmarks. Idempotent: a second run changes
        nothing. Runs `yibao init` first when needed.
        """
        if persons < 100:
            fail(f"--persons: 至少 100 (at least 100; got {persons})", 2)
        cfg = settings()
        with friendly_errors():
            init_data_dir(cfg)
            engine = make_engine(cfg.db_url, synchronous=cfg.sqlite_synchronous)
            try:
                report = load_demo(engine, cfg.data_dir, persons=persons)
            finally:
                engine.dispose()
        console.print(f"目录 catalog: {report.catalog}")
        console.print(
            f"机构 institutions: {report.institutions} (新增 added {report.institutions_added}); "
            f"参保人 persons: {report.persons} (新增 added {report.persons_added})"
        )
        console.print(
            "经办用户 agency user: "
            + ("已创建 created" if report.agency_created else "已存在 exists (unchanged)")
        )
        console.print(
            f"[green]完成 done.[/] 演示数据 fixtures: {report.fixtures} (仅属主可读 owner-only)"
        )
