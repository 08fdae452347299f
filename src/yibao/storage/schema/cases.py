"""Review cases (疑点 → 处理, docs/cases.md): the case, the rule hits it was opened from (a
snapshot: the case is the record of what was alleged, whatever later happens to the hits),
every step it went through, and the files attached (an institution's appeal, an
investigator's report).

Nothing is rewritten: a step appends a `review_case_step` row and moves the case's state with
an optimistic `version` check, so two reviewers acting at once cannot both win.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.mysql import LONGBLOB

from yibao.storage.schema.base import ID, metadata
from yibao.storage.types import Money

review_case = Table(
    "review_case",
    metadata,
    Column("case_id", String(ID), primary_key=True),
    Column("fixmedins_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=False),
    Column("title", String(200), nullable=False),
    #: the categories of its hits, comma-separated (for the queue's filter)
    Column("categories", String(400), nullable=False),
    Column("period_begin", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("state", String(20), nullable=False),
    Column("assignee", String(50), nullable=True),
    Column("deadline", DateTime, nullable=True),
    #: when the institution was told: its appeal window closes at `deadline` then
    Column("notified_at", DateTime, nullable=True),
    Column("amount_at_stake", Money(), nullable=False),
    Column("decision", String(10), nullable=True),
    Column("decision_amount", Money(), nullable=True),
    Column("decided_at", DateTime, nullable=True),
    #: the clearing application a recover/deduct decision was deducted in (docs/clearing.md);
    #: null while it waits for the institution's next 3203
    Column("clr_appy_evt_id", String(ID), nullable=True),
    Column("opened_by", String(50), nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False),
)
Index(None, review_case.c.state, review_case.c.deadline)
Index(None, review_case.c.fixmedins_code, review_case.c.state)

review_case_hit = Table(
    "review_case_hit",
    metadata,
    Column("case_id", String(ID), ForeignKey("review_case.case_id"), primary_key=True),
    Column("hit_id", String(40), primary_key=True),
    Column("rule_id", String(40), nullable=False),
    Column("category", String(40), nullable=False),
    Column("stage", String(10), nullable=False),
    Column("result_type", String(12), nullable=False),
    Column("setl_id", String(ID), nullable=True),
    Column("mdtrt_id", String(ID), nullable=True),
    Column("amount", Money(), nullable=False),
    Column("detected_at", DateTime, nullable=False),
    #: the hit's evidence as it stood when the case was opened (JSON)
    Column("evidence", Text, nullable=False),
)
#: a hit belongs to one case at most
Index("uq_review_case_hit_hit_id", review_case_hit.c.hit_id, unique=True)

review_case_step = Table(
    "review_case_step",
    metadata,
    Column("case_id", String(ID), ForeignKey("review_case.case_id"), primary_key=True),
    Column("step_no", Integer, primary_key=True),
    #: transition | assign | comment | attach
    Column("kind", String(12), nullable=False),
    Column("from_state", String(20), nullable=True),
    Column("to_state", String(20), nullable=True),
    Column("actor", String(50), nullable=False),
    Column("actor_role", String(20), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("comment", Text, nullable=True),
    Column("assignee", String(50), nullable=True),
    Column("deadline", DateTime, nullable=True),
    Column("decision", String(10), nullable=True),
    Column("amount", Money(), nullable=True),
    Column("file_id", String(ID), nullable=True),
)

review_case_file = Table(
    "review_case_file",
    metadata,
    Column("file_id", String(ID), primary_key=True),
    Column("case_id", String(ID), ForeignKey("review_case.case_id"), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary().with_variant(LONGBLOB(), "mysql"), nullable=False),
    Column("uploaded_by", String(50), nullable=False),
    Column("uploaded_at", DateTime, nullable=False),
)
Index(None, review_case_file.c.case_id)
