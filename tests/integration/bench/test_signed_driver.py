"""The bench driver signs its calls with the demo city's signature-mode credentials (and
`--auth static` sends the static key), against the app in this process."""

from __future__ import annotations

import random

import httpx
import pytest

from yibao.api.app import create_app
from yibao.bench.fixtures import load_fixtures
from yibao.bench.flows import Admissions, Session
from yibao.bench.http import HttpxConnection
from yibao.bench.stats import Recorder
from yibao.runtime import Platform
from yibao.simulate.demo import load_demo


@pytest.mark.parametrize("auth", ["signature", "static"])
async def test_outpatient_flows_settle(platform: Platform, auth: str) -> None:
    data_dir = platform.settings.data_dir
    load_demo(platform.db.engine, data_dir, persons=200)
    fixtures = load_fixtures(data_dir)
    app = create_app(platform.settings, platform=platform)
    transport = httpx.ASGITransport(app=app)
    recorder = Recorder()
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        session = Session(
            HttpxConnection(client),
            fixtures,
            recorder,
            random.Random(7),
            reversal_rate=0.0,
            auth=auth,
            admissions=Admissions(),
        )
        assert all([await session.outpatient() for _ in range(3)]), recorder.error_samples
        assert recorder.count("2207") == 3 and recorder.error_count == 0
        headers = session._headers(fixtures.institutions[0]["credentials"], 1.7e9)
    assert ("x-tif-signature" in headers) == (auth == "signature")
