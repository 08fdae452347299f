"""The shape the settlement repository answers in: a row as a read-only mapping of its
columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import MappingResult

Row = Mapping[str, Any]


def first(result: MappingResult) -> Row | None:
    """The first row of a Core result, or None."""
    return cast("Row | None", result.first())


def every(result: MappingResult) -> list[Row]:
    """Every row of a Core result."""
    return cast("list[Row]", result.all())
