"""Shared set-ups of the simulator's integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from yibao.simulate import settle_rows
from yibao.simulate.bulk import bulk_load
from yibao.simulate.model import CityParams
from yibao.storage.engine import make_engine

FAILING_CITY = CityParams(seed=31, persons=300, institutions=15, days=200, settlements=1200)


@pytest.fixture
def failed_load(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bulk load into the fresh store at `sqlite_url` whose workers all fail; returns the
    store's path once the load has raised the workers' error."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("worker failed on purpose")

    # the workers are forked after this, so they settle with the broken method
    monkeypatch.setattr(settle_rows.Settler, "run", broken)
    engine = make_engine(sqlite_url)
    try:
        with pytest.raises(RuntimeError, match="on purpose"):
            bulk_load(engine, FAILING_CITY, workers=2)
    finally:
        engine.dispose()
    return Path(sqlite_url.removeprefix("sqlite:///"))
