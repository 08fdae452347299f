"""Importing this module registers every settlement transaction handler."""

from __future__ import annotations

# imported for their @transaction registrations
from yibao.settlement import (
    inpatient,
    outpatient,
    person,
    pharmacy,
    queries,
    reversal,
)

__all__ = ["inpatient", "outpatient", "person", "pharmacy", "queries", "reversal"]
