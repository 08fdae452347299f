"""`yibao db …` — schema migrations."""

from __future__ import annotations

import typer

from yibao.bootstrap import ensure_data_dir
from yibao.cli.common import console, friendly_errors, settings
from yibao.storage.engine import detect_backend, make_null_engine
from yibao.storage.migrate import current_revision, head_revision
from yibao.storage.migrate import upgrade as run_upgrade

app = typer.Typer(
    help="Schema migrations of the row store (Alembic, shipped in the package).",
    no_args_is_help=True,
)


@app.command()
def upgrade() -> None:
    """Apply every pending migration (idempotent)."""
    cfg = settings()
    with friendly_errors():
        if cfg.is_sqlite:
            ensure_data_dir(cfg.data_dir)
        engine = make_null_engine(cfg.db_url)
        try:
            backend = detect_backend(engine)
            before = current_revision(engine)
            run_upgrade(engine)
            after = current_revision(engine)
        finally:
            engine.dispose()
    console.print(f"{backend.name} {backend.version}: {before or '(empty)'} → {after}")


@app.command()
def status() -> None:
    """Show the schema revision of the row store and the newest one shipped."""
    cfg = settings()
    with friendly_errors():
        engine = make_null_engine(cfg.db_url)
        try:
            detect_backend(engine)
            current = current_revision(engine)
        finally:
            engine.dispose()
    head = head_revision()
    console.print(
        f"current: {current or '(empty)'}  head: {head}  {'最新 up to date' if current == head else '需升级 run `yibao db upgrade`'}"
    )
