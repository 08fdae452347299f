"""The message log, the change log the replica tails, console users, sessions and audit, and the 9101/9102 file store."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.mysql import LONGBLOB, MEDIUMTEXT

from yibao.storage.schema.base import ID, metadata

# ---------------------------------------------------------------------------------------------
# Message log (msgid → stored response) and the change log the replica tails
# ---------------------------------------------------------------------------------------------

msg_log = Table(
    "msg_log",
    metadata,
    Column("msgid", String(ID), primary_key=True),
    Column("fixmedins_code", String(ID), nullable=False),
    Column("infno", String(8), nullable=False),
    #: sha256 of the canonical input: a retry must carry the same input to get the answer
    Column("input_sha256", String(64), nullable=False),
    Column("infcode", Integer, nullable=False),
    #: up to 16 MiB on MySQL (MEDIUMTEXT): a 2204/2301 answer with thousands of lines
    Column("response", Text().with_variant(MEDIUMTEXT(), "mysql"), nullable=False),
    Column("psn_no", String(ID), nullable=True),
    #: the settlement, visit or other record the message produced (for 2601)
    Column("ref_id", String(ID), nullable=True),
    Column("created_at", DateTime, nullable=False),
)
Index(None, msg_log.c.fixmedins_code, msg_log.c.created_at)

#: The gateway signature's nonces (x-tif-nonce), shared by every gateway process: a nonce is
#: refused as a replay until its request's timestamp leaves the signature window
#: (`expires_at`, Unix seconds); older rows are purged.
gateway_nonce = Table(
    "gateway_nonce",
    metadata,
    Column("paasid", String(64), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),
)
Index(None, gateway_nonce.c.expires_at)

change_log = Table(
    "change_log",
    metadata,
    #: allocated from seq_counter inside the writing transaction: commit order = seq order
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    #: the replica entity: setl | psn | fixmedins | mdtrt | …
    Column("entity", String(32), nullable=False),
    #: upsert | delete
    Column("op", String(8), nullable=False),
    Column("entity_key", String(64), nullable=False),
    #: JSON of the replica row (no personal identifiers; amounts in fen); up to 16 MiB on
    #: MySQL (MEDIUMTEXT): a long stay's `fee` payload carries thousands of lines
    Column("payload", Text().with_variant(MEDIUMTEXT(), "mysql"), nullable=False),
    #: wall-clock milliseconds since the epoch when the change was written
    Column("ts_ms", BigInteger, nullable=False),
)

seq_counter = Table(
    "seq_counter",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_value", BigInteger, nullable=False),
)

# ---------------------------------------------------------------------------------------------
# Console: agency users, sessions, audit trail
# ---------------------------------------------------------------------------------------------

agency_user = Table(
    "agency_user",
    metadata,
    Column("username", String(50), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("display_name", String(50), nullable=False),
    #: one of yibao.users.permissions.ROLES; the role decides the tenant's kind (agency,
    #: institution, chain)
    Column("role", String(16), nullable=False),
    #: the tenant: NULL for the agency, else the institution's (or the chain parent's) code
    Column("tenant_code", String(ID), nullable=True),
    #: the agency's department (科室) the user works in; NULL for institution users
    Column("department", String(50), nullable=True),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("created_at", DateTime, nullable=False),
    Column("last_login_at", DateTime, nullable=True),
)
Index(None, agency_user.c.tenant_code)

auth_session = Table(
    "auth_session",
    metadata,
    #: sha256 hex of the bearer token / session cookie; the token itself is never stored
    Column("token_sha256", String(64), primary_key=True),
    Column("username", String(50), ForeignKey("agency_user.username"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    #: the absolute end of the session (created_at + session_absolute_hours)
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
    #: last authenticated use (refreshed at most once a minute): the idle expiry counts from it
    Column("last_seen_at", DateTime, nullable=True),
    #: sha256 hex of the session's CSRF token (X-CSRF-Token on cookie-authenticated writes)
    Column("csrf_sha256", String(64), nullable=True),
)

#: Failed sign-ins, kept in the row store so that every server process sees the same counts
#: (yibao.users.throttle). `throttle_key` is a sha256 hex of the key (account + address, or
#: address), so the table holds no user names or addresses in clear.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("throttle_key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", DateTime, nullable=False),
    Column("locked_until", DateTime, nullable=True),
)

#: The audit trail, append-only and hash-chained (`enrolment.audit_chain`, docs/audit.md): each
#: row carries the hash of the one before (`prev_hash`) and its own (`row_hash`, sha256 over
#: `prev_hash` and the row's canonical serialisation), so an edited, removed or reordered row
#: breaks the chain at that row. `chain_seq` is the position (1, 2, 3 …, no gaps).
audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", BigInteger, primary_key=True, autoincrement=False),
    Column("chain_seq", BigInteger, nullable=False),
    #: whole seconds (MySQL DATETIME keeps no fraction; the hash must survive a round trip)
    Column("at", DateTime, nullable=False),
    #: who: the console user, the CLI's operator name, or the institution
    Column("actor", String(50), nullable=False),
    #: the actor's tenant (agency, an institution's or a chain's code) and role, when known
    Column("tenant", String(30), nullable=True),
    Column("role", String(16), nullable=True),
    #: from where: the client address (console) or "cli"
    Column("address", String(64), nullable=True),
    #: the stated purpose (unmasking, export) or a case id
    Column("purpose", String(200), nullable=True),
    Column("action", String(50), nullable=False),
    Column("target", String(100), nullable=True),
    #: how many records the action touched or showed (views and exports)
    Column("records", Integer, nullable=True),
    Column("detail", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    UniqueConstraint("chain_seq"),
)
Index(None, audit_log.c.at)
Index(None, audit_log.c.actor, audit_log.c.at)
Index(None, audit_log.c.action, audit_log.c.at)

#: The chain head, one row (`name` = "audit_log"): the last position and its hash. A writer
#: updates it first in its transaction, so its lock (SQLite's write lock, a MySQL row lock)
#: is held to commit: concurrent writers queue and the chain cannot fork.
audit_chain = Table(
    "audit_chain",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

#: Anchors of the chain head: `anchor` rows are taken (and exported) periodically
#: (`yibao audit anchor`); a `purge` row holds the position and hash of the last record a purge
#: removed, where `audit verify` starts the chain afterwards.
audit_anchor = Table(
    "audit_anchor",
    metadata,
    Column("anchor_id", BigInteger, primary_key=True, autoincrement=False),
    #: anchor | purge
    Column("kind", String(8), nullable=False),
    Column("chain_seq", BigInteger, nullable=False),
    Column("row_hash", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
    #: purge: how many records it removed, and the cutoff it used
    Column("purged", Integer, nullable=True),
    Column("cutoff", DateTime, nullable=True),
)
Index(None, audit_anchor.c.kind, audit_anchor.c.chain_seq)

# ---------------------------------------------------------------------------------------------
# Files exchanged through 9101/9102 (reconciliation uploads, catalog downloads)
# ---------------------------------------------------------------------------------------------

file_store = Table(
    "file_store",
    metadata,
    Column("file_qury_no", String(ID), primary_key=True),
    Column("fixmedins_code", String(ID), nullable=False),
    Column("filename", String(200), nullable=False),
    #: upload (9101) | download (generated for 9102)
    Column("direction", String(10), nullable=False),
    Column("content", LargeBinary().with_variant(LONGBLOB(), "mysql"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)
