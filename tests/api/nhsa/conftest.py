"""Fixtures of the gateway tests: the app on a migrated SQLite platform with two hospitals, a
pharmacy, persons and the standard catalog; `his` / `his2` / `pos` talk to it over httpx's
ASGI transport."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integration" / "settlement"))

from settle_factories import (
    HOSP,
    HOSP2,
    PHARM,
    His,
    Person,
    seed_catalog,
    seed_institution,
    seed_person,
)

from yibao.api.app import create_app
from yibao.config import load_settings
from yibao.runtime import Platform, open_platform


@pytest.fixture
async def world(platform: Platform) -> AsyncIterator[dict[str, Any]]:
    app = create_app(platform.settings, platform=platform)
    with platform.db.engine.begin() as conn:
        creds = {
            HOSP: seed_institution(conn, HOSP),
            HOSP2: seed_institution(conn, HOSP2, hosp_lv="3"),
            PHARM: seed_institution(conn, PHARM, kind="pharmacy", hosp_lv="0"),
        }
        seed_catalog(conn)
        people = {
            "emp": seed_person(conn, Person("P0001", "110101199003074514")),
            "emp2": seed_person(conn, Person("P0002", "110101198001010010", psn_name="李四")),
            "res": seed_person(
                conn,
                Person(
                    "P0003",
                    "110101200001011232",
                    psn_name="王五",
                    insutype="390",
                    psn_type="1501",
                    balc=Decimal("0.00"),
                ),
            ),
        }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield {
            "app": app,
            "platform": platform,
            "client": client,
            "people": people,
            "his": His(client, HOSP, *creds[HOSP]),
            "his2": His(client, HOSP2, *creds[HOSP2]),
            "pos": His(client, PHARM, *creds[PHARM]),
        }


@pytest.fixture
def mysql_platform(tmp_path: Path, mysql_empty: str) -> Iterator[Platform]:
    """A platform on the emptied MySQL-protocol test store."""
    plat = open_platform(load_settings(data_dir=tmp_path / "data", database_url=mysql_empty))
    yield plat
    plat.close()
