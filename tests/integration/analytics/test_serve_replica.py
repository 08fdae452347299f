"""The replica's lifecycle without HTTP: `Platform.serve_replica` takes the owner lock, opens
the DuckDB replica and composes the analytics and the shared dashboard; `stop_replica` puts
it all down and releases the lock. A second platform on the same data directory serves none."""

from __future__ import annotations

from yibao.config import Settings
from yibao.interface import analytics
from yibao.replica.lock import running_owner
from yibao.runtime import Platform, open_platform


def test_serve_and_stop(platform: Platform, settings: Settings) -> None:
    platform.serve_replica()
    try:
        assert platform.replica is not None and platform.analytics is not None
        assert platform.dashboard is not None and platform.replica_lock is not None
        assert running_owner(settings.data_dir) is not None
        token = platform.replica_lock.token
        assert analytics.is_local_operator(platform, token)
        assert not analytics.is_local_operator(platform, "not-the-token")
        assert analytics.position(platform)["seq"] == 0

        second = open_platform(settings)
        try:
            second.serve_replica()  # the lock is held: analytics are served by the first
            assert second.analytics is None and second.replica_lock is None
        finally:
            second.close()
    finally:
        platform.stop_replica()
    assert platform.replica is None and platform.analytics is None and platform.dashboard is None
    assert running_owner(settings.data_dir) is None
    assert not analytics.is_local_operator(platform, token)
