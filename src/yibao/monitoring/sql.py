"""Shared SQL fragments over the replica's `setl_fact` (docs/replica.md)."""

from __future__ import annotations

from datetime import date

#: the person's column in the replica: the keyed pseudonym
PSN = "psn_ref"
#: a settlement that stands: not reversed, not itself a reversal
VALID = "vali_flag = '1' AND COALESCE(refd_setl_flag, '0') <> '1'"


def valid(alias: str) -> str:
    """`VALID` for a table alias."""
    return f"{alias}.vali_flag = '1' AND COALESCE({alias}.refd_setl_flag, '0') <> '1'"


def fen(column: str) -> str:
    """A replica amount (DECIMAL yuan) as integer fen."""
    return f"CAST(round({column} * 100) AS BIGINT)"


def day(value: date) -> str:
    """A date literal (`value` is a `date`, never text from a caller)."""
    return f"DATE '{value.isoformat()}'"


def diag_group(column: str) -> str:
    """The ICD-10 category (three characters, e.g. J18) that 'the same or a related
    diagnosis' compares."""
    return f"upper(substr(COALESCE({column}, ''), 1, 3))"
