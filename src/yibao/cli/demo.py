"""`yibao demo` — the demo city (the simulator's small fixed-seed city)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import Engine

from yibao import simulate as simulate_package
from yibao.bootstrap import init as init_data_dir
from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.config import Settings
from yibao.errors import ConfigError
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator
from yibao.review.demo_kb import load_demo_kb
from yibao.simulate.demo import DEMO_PERSONS, HISTORY_DAYS, load_demo, load_history
from yibao.simulate.export import LABELS_FILE, write_labels
from yibao.simulate.model import Label
from yibao.simulate.replica_load import replica_for_load
from yibao.storage.engine import make_engine
from yibao.storage.uow import UnitOfWork


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        persons: int = typer.Option(
            DEMO_PERSONS, help="Insured persons of the demo city (at least 100)."
        ),
        history_days: int = typer.Option(
            HISTORY_DAYS,
            help="Days of settlement history up to now, bulk-loaded on a store without "
            "settlements so the dashboard has a trend at once (0: none).",
        ),
    ) -> None:
        """Load the demo city: the demo catalog, institutions of every kind and level with
        gateway credentials and a console account each (inst_admin; a pharmacy chain's head
        chain_admin), a few thousand insured persons of every insurance and person type, and
        one demo agency user per agency role (the operator is the fixtures' `agency`). Writes <data_dir>/demo-fixtures.json (owner-readable
        only) for the HIS simulator and the benchmarks. Idempotent: a second run changes
        nothing. Runs `yibao init` first when needed. On a fresh store it then loads the last
        --history-days of the city's settlements (with `yibao serve` stopped), their anomaly
        labels going to <data_dir>/simulate-labels.csv.
        """
        if persons < 100:
            fail(f"--persons: 至少 100 (at least 100; got {persons})", 2)
        if not 0 <= history_days <= 366:
            fail(f"--history-days: 须在 0–366 (0 to 366; got {history_days})", 2)
        cfg = settings()
        with friendly_errors():
            init_data_dir(cfg)
            engine = make_engine(cfg.db_url, synchronous=cfg.sqlite_synchronous)
            try:
                report = load_demo(engine, cfg.data_dir, persons=persons)
                with UnitOfWork(engine) as uow:
                    kb_added = load_demo_kb(
                        uow.conn,
                        ids=IdGenerator(cfg.node_id),
                        now=local_naive_now(),
                        document=city_knowledge(),
                    )
                    uow.commit()
                history = _history(cfg, engine, persons, history_days)
            finally:
                engine.dispose()
        console.print(f"目录 catalog: {report.catalog}")
        console.print(
            "知识库 knowledge base: "
            + (
                f"已加载 loaded {sum(kb_added.values())} rows"
                if kb_added
                else "已存在 present (unchanged)"
            )
        )
        console.print(
            f"机构 institutions: {report.institutions} (新增 added {report.institutions_added}); "
            f"参保人 persons: {report.persons} (新增 added {report.persons_added})"
        )
        console.print(
            "演示账户 demo accounts (经办机构每个角色一个, 每个机构一个 one per agency role, one "
            "per institution): "
            + ("已创建 created" if report.agency_created else "已存在 exists (unchanged)")
            + "; 用户名与密码见 usernames and passwords in demo-fixtures.json"
        )
        if history:
            console.print(history)
        console.print(
            f"[green]完成 done.[/] 演示数据 fixtures: {report.fixtures} (仅属主可读 owner-only)"
        )


def city_knowledge() -> dict[str, Any] | None:
    """The knowledge document the synthetic city is made against (`simulate/
    risk_kb_demo.json`), when this build has one: the rules then judge the city with the
    thresholds its anomalies cross. None: the review's built-in demo rows."""
    path = Path(simulate_package.__file__).with_name("risk_kb_demo.json")
    if not path.is_file():
        return None
    found = json.loads(path.read_text(encoding="utf-8"))
    return found if isinstance(found, dict) else None


def _history(cfg: Settings, engine: Engine, persons: int, days: int) -> str | None:
    """Load the settlement history; a line saying what happened (None: nothing to say)."""
    if not days:
        return None
    if engine.dialect.name != "sqlite":
        return (
            "结算历史未加载 settlement history not loaded: the bulk loader writes SQLite stores "
            "only; play traffic with `yibao bench settle` instead"
        )
    labels: list[Label] = []
    try:
        with (
            replica_for_load(cfg) as replica,
            console.status(f"结算历史 settlement history: {days} 天 days…"),
        ):
            report = load_history(
                engine, cfg.data_dir, replica, persons=persons, days=days, labels_out=labels
            )
    except ConfigError as exc:
        return f"[yellow]结算历史未加载 settlement history not loaded[/]: {exc}"
    if report is None:
        return (
            "结算历史 settlement history: 已有结算 the store already holds settlements (unchanged)"
        )
    write_labels(cfg.data_dir / LABELS_FILE, labels)
    return (
        f"结算历史 settlement history: {report.settlements:,} 笔 settlements over {days} days "
        f"({report.fee_lines:,} fee lines, {report.unsettled:,} stays still open), "
        f"{report.seconds:.1f}s; 标签 labels → {cfg.data_dir / LABELS_FILE}"
    )
