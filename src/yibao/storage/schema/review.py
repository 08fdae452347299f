"""Review (基金监管): the knowledge base's seven tables (知识库, imported with `yibao kb import`)
and the evidence of every rule hit (`rule_hit`).

Knowledge rows are versioned by their validity dates (`begndate`, `enddate` inclusive, null =
open): a row is used for a fee on a date inside them. An import replaces a table's rows in one
transaction (docs/review.md). Amounts and prices are scaled integers like everywhere else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Date, DateTime, Index, Integer, String, Table, Text

from yibao.storage.schema.base import CODE, ID, audit_cols, metadata
from yibao.storage.types import Money, Price, Qty

CODE_LEN = 50


def _dates() -> list[Column[Any]]:
    return [
        Column("begndate", Date, nullable=False),
        Column("enddate", Date, nullable=True),
        Column("memo", String(500), nullable=True),
        *audit_cols(),
    ]


item_pairs = Table(
    "item_pairs",
    metadata,
    Column("row_id", String(ID), primary_key=True),
    Column("hilist_code_a", String(CODE_LEN), nullable=False),
    Column("hilist_code_b", String(CODE_LEN), nullable=False),
    #: includes 项目内涵 (A's charge includes B) | excludes 互斥
    Column("relation", String(8), nullable=False),
    *_dates(),
)

bundles = Table(
    "bundles",
    metadata,
    Column("row_id", String(ID), primary_key=True),
    Column("bundle_code", String(CODE_LEN), nullable=False),
    Column("bundle_name", String(200), nullable=False),
    Column("hilist_code", String(CODE_LEN), nullable=False),
    #: components of the bundle billed apart on one day that make 分解收费
    Column("min_parts", Integer, nullable=False),
    *_dates(),
)

price_limits = Table(
    "price_limits",
    metadata,
    Column("row_id", String(ID), primary_key=True),
    Column("hilist_code", String(CODE_LEN), nullable=False),
    #: institution level ("1", "2", "3") or "*" for every level
    Column("hosp_lv", String(CODE), nullable=False),
    Column("max_pric", Price(), nullable=False),
    *_dates(),
)

drug_limits = Table(
    "drug_limits",
    metadata,
    Column("row_id", String(ID), primary_key=True),
    Column("hilist_code", String(CODE_LEN), nullable=False),
    #: the visit type the limit is for (门诊/急诊/门慢 supplies differ); null: every type
    Column("med_type", String(CODE), nullable=True),
    Column("max_days", Qty(), nullable=True),
    Column("max_daily_dose", Qty(), nullable=True),
    *_dates(),
)

frequency_limits = Table(
    "frequency_limits",
    metadata,
    Column("row_id", String(ID), primary_key=True),
    Column("hilist_code", String(CODE_LEN), nullable=False),
    Column("per_day", Qty(), nullable=True),
    Column("per_admission", Qty(), nullable=True),
    Column("per_year", Qty(), nullable=True),
    *_dates(),
)

windows = Table(
    "windows",
    metadata,
    Column("row_id", String(ID), primary_key=True),
    #: readmission | holding | frequent_visits | same_place | bed_only | los_outlier
    Column("window_key", String(20), nullable=False),
    Column("days", Integer, nullable=True),
    #: the count, minutes or ratio the window goes with (frequent_visits: visits; same_place:
    #: minutes; los_outlier: a ratio), when it has one
    Column("threshold", Qty(), nullable=True),
    *_dates(),
)

consumable_links = Table(
    "consumable_links",
    metadata,
    Column("row_id", String(ID), primary_key=True),
    Column("consumable_code", String(CODE_LEN), nullable=False),
    Column("procedure_code", String(CODE_LEN), nullable=False),
    *_dates(),
)

#: One finding of a rule, written by the call that acted on it (2204/2301, 2207/2304, 2102 in
#: their transaction; a refused call's hit in a transaction of its own). The evidence JSON holds
#: the lines and the history used, by line ids and visit ids — never a name or a certno.
rule_hit = Table(
    "rule_hit",
    metadata,
    Column("hit_id", String(ID), primary_key=True),
    Column("rule_id", String(ID), nullable=False),
    Column("rule_version", String(ID), nullable=False),
    Column("category", String(32), nullable=False),
    #: pre | mid | post
    Column("stage", String(8), nullable=False),
    #: violation | suspicious
    Column("result_type", String(12), nullable=False),
    #: warn | selfpay | refuse
    Column("action", String(8), nullable=False),
    Column("infno", String(CODE), nullable=True),
    Column("msgid", String(ID), nullable=True),
    #: the person, for real-time hits; a post-hoc hit (found on the pseudonymous replica)
    #: knows only `psn_ref`, and a hit on an institution or a group has neither
    Column("psn_no", String(ID), nullable=True),
    #: the keyed pseudonym (replica.pseudonym) of a post-hoc hit's person
    Column("psn_ref", String(ID + 34), nullable=True),
    #: null for a post-hoc hit on a person over a window or on a group across institutions
    Column("fixmedins_code", String(ID), nullable=True),
    Column("mdtrt_id", String(ID), nullable=True),
    Column("setl_id", String(ID), nullable=True),
    #: the fee lines found (feedetl_sn, comma-separated)
    Column("line_ids", String(1000), nullable=True),
    Column("threshold", String(100), nullable=True),
    Column("value_found", String(100), nullable=True),
    Column("amount", Money(), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("evidence", Text, nullable=True),
    Column("detected_at", DateTime, nullable=False),
)
Index(None, rule_hit.c.psn_no, rule_hit.c.detected_at)
Index(None, rule_hit.c.fixmedins_code, rule_hit.c.detected_at)
Index(None, rule_hit.c.mdtrt_id)
Index(None, rule_hit.c.psn_ref)
Index(None, rule_hit.c.stage, rule_hit.c.detected_at)

#: One post-hoc pass (`yibao risk run`, the scheduled run in `serve`, `POST /api/v1/risk/runs`):
#: the days it covered and what it found. The incremental default starts the day after the
#: latest `until_date` of a complete run (every category).
risk_run = Table(
    "risk_run",
    metadata,
    Column("run_id", String(ID), primary_key=True),
    Column("since_date", Date, nullable=False),
    Column("until_date", Date, nullable=False),
    #: comma-separated categories, or null for every post-hoc category
    Column("categories", String(500), nullable=True),
    #: cli | schedule | console (who started it)
    Column("run_by", String(12), nullable=False),
    Column("hits_found", Integer, nullable=False),
    Column("hits_new", Integer, nullable=False),
    #: the replica's applied change-log position the pass read
    Column("replica_seq", BigInteger, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=False),
)
Index(None, risk_run.c.until_date)

KB_TABLES = {
    "item_pairs": item_pairs,
    "bundles": bundles,
    "price_limits": price_limits,
    "drug_limits": drug_limits,
    "frequency_limits": frequency_limits,
    "windows": windows,
    "consumable_links": consumable_links,
}
