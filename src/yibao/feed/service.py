"""Building the publisher over a row store: the change log read through `storage.changelog`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine

from yibao.config import Settings
from yibao.feed.publisher import FeedPublisher
from yibao.feed.records import Pseudonymiser
from yibao.storage import changelog


def open_feed(settings: Settings, engine: Engine, pseudonym: Pseudonymiser) -> FeedPublisher | None:
    """The publisher for `YIBAO_FEED_URL`, not started; None when no feed is configured."""
    if not settings.feed_url:
        return None

    def read(after: int, limit: int) -> Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]:
        with engine.connect() as conn:
            rows = changelog.read_after(conn, after, limit)
        return [(row, changelog.decode(str(row["payload"]))) for row in rows]

    def latest() -> int:
        with engine.connect() as conn:
            return changelog.latest_seq(conn)

    return FeedPublisher(
        settings.feed_url,
        read_changes=read,
        latest_seq=latest,
        pseudonym=pseudonym,
        stream=settings.feed_stream,
        batch=settings.feed_batch,
    )
