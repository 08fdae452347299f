"""The schema is built by the migrations, and the migrations agree with storage.tables."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from yibao.storage.migrate import current_revision, head_revision, upgrade
from yibao.storage.tables import metadata


def test_migrations_match_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == [], f"migrations and storage/tables.py disagree: {diff}"


def test_upgrade_is_idempotent_and_at_head(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_every_table_exists_with_named_primary_key(engine: Engine) -> None:
    insp = inspect(engine)
    names = set(insp.get_table_names())
    for table in metadata.sorted_tables:
        assert table.name in names
    assert {"setl", "change_log", "msg_log", "psn_accum", "fee_detail"} <= names
