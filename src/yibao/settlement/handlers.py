"""Importing this module registers the settlement transaction handlers that still live in the
settlement package (9001/9002 and the queries); the others are under
`yibao.interface.transactions`."""

from __future__ import annotations

# imported for their @transaction registrations
from yibao.settlement import person, queries

__all__ = ["person", "queries"]
