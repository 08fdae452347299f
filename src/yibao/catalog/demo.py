"""The demo city's catalog: `load_demo_catalog(conn)`, called by the demo loader.

Imports the packaged `catalog/data/demo_catalog.csv` (written by `catalog.demo_data`) as one
catalog version labelled DEMO-1, in the caller's transaction. Idempotent: when a version from
that file exists, nothing is done and None is returned.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources

from sqlalchemy import Connection

from yibao.catalog.cache import CatalogCache
from yibao.catalog.importer import ImportReport, import_sheet
from yibao.catalog.repo.versioning import version_of_source
from yibao.catalog.source import read_csv_text
from yibao.kit.ids import IdGenerator, default_ids

SOURCE = "demo_catalog.csv"
VER = "DEMO-1"


def demo_catalog_text() -> str:
    return resources.files("yibao.catalog").joinpath("data", SOURCE).read_text(encoding="utf-8")


def load_demo_catalog(
    conn: Connection,
    *,
    now: datetime | None = None,
    ids: IdGenerator = default_ids,
    cache: CatalogCache | None = None,
) -> ImportReport | None:
    """Apply the demo catalog unless it is already there; the report, or None when it was."""
    if version_of_source(conn, source=SOURCE, ver=VER) is not None:
        return None
    report = import_sheet(
        conn,
        read_csv_text(demo_catalog_text(), SOURCE),
        source=SOURCE,
        ver=VER,
        created_by="demo",
        memo="演示目录 (demo catalog: made-up items with valid national code formats)",
        now=now,
        ids=ids,
        cache=cache,
        strict=True,
    )
    if report.rejected:
        problems = "; ".join(issue.text() for issue in report.rejected[:5])
        raise RuntimeError(f"the packaged demo catalog has bad rows: {problems}")
    return report
