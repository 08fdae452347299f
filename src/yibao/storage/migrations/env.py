"""Alembic environment: runs on the connection handed in by `yibao.storage.migrate`."""

from __future__ import annotations

from alembic import context

from yibao.storage.tables import metadata

target_metadata = metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through yibao.storage.migrate (yibao db upgrade)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported; use yibao db upgrade")
run_migrations_online()
