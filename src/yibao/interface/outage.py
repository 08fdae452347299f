"""The row store's outage classification for the HTTP edge (which reaches storage only through
the interface layer): see `yibao.storage.faults`."""

from __future__ import annotations

from yibao.storage.faults import DRIVER_ERRORS, report, unavailable

__all__ = ["DRIVER_ERRORS", "report", "unavailable"]
