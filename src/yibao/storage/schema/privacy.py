"""Personal-data access control (issue 17): every unmasking with its stated purpose (the
per-user rate limit counts these rows, so it holds across server processes), and the
console's security alerts (unusual unmasking volume, refused bursts) for the secadmin."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table, Text

from yibao.storage.schema.base import metadata

unmask_log = Table(
    "unmask_log",
    metadata,
    Column("unmask_id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    Column("username", String(50), nullable=False),
    #: a code of `interface.console.unmasking.PURPOSES`
    Column("purpose", String(30), nullable=False),
    #: the free text after the code (a case number, a ticket); never personal data
    Column("purpose_note", String(200), nullable=True),
    #: how many persons the answer showed unmasked
    Column("records", Integer, nullable=False),
)
Index(None, unmask_log.c.username, unmask_log.c.at)

console_alert = Table(
    "console_alert",
    metadata,
    Column("alert_id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    #: unmask_volume | unmask_records | unmask_refused
    Column("kind", String(30), nullable=False),
    #: the user whose behaviour raised it
    Column("username", String(50), nullable=False),
    Column("message", String(500), nullable=False),
    #: JSON: counts and thresholds (no personal data)
    Column("detail", Text, nullable=True),
    Column("acked_at", DateTime, nullable=True),
    Column("acked_by", String(50), nullable=True),
)
Index(None, console_alert.c.at)
Index(None, console_alert.c.username, console_alert.c.kind, console_alert.c.at)
