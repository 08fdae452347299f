"""Filings (待遇申报 / 备案): the records that entitle a person to a kind of treatment — 2501
转院备案, 2503 人员慢特病备案, 2699 生育备案 — and their undo (2502, 2504).

One table for every kind: the kinds share what settlement and the 53xx queries read (person,
insutype, the named disease, the named institution, the validity dates, whether undone), and the
rest of each kind's national fields is kept as JSON in `extra`. A filing is never deleted: an
undo sets `vali_flag` "0" with its time, message and reason, so a settlement made while the
filing held can always be explained.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from yibao.storage.schema.base import CODE, ID, audit_cols, metadata

trt_dcla = Table(
    "trt_dcla",
    metadata,
    #: 待遇申报明细流水号, a `kit.ids` id as text (what 2501/2503/2699 answer)
    Column("trt_dcla_detl_sn", String(ID), primary_key=True),
    #: transfer (2501) | chronic (2503) | maternity (2699)
    Column("dcla_kind", String(16), nullable=False),
    Column("psn_no", String(ID), ForeignKey("psn.psn_no"), nullable=False),
    Column("insutype", String(CODE), nullable=True),
    #: the institution that filed it: the only one that may undo it
    Column("fixmedins_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=False),
    #: chronic: opsp_dise_code / opsp_dise_name; transfer: diag_code / diag_name
    Column("dise_codg", String(ID), nullable=True),
    Column("dise_name", String(300), nullable=True),
    #: chronic: ide_fixmedins_no (鉴定机构); transfer: reflin_medins_no (转往机构);
    #: maternity: the filing institution
    Column("medins_no", String(ID), nullable=True),
    Column("medins_name", String(200), nullable=True),
    Column("begndate", Date, nullable=False),
    Column("enddate", Date, nullable=True),
    Column("tel", String(50), nullable=True),
    Column("addr", String(200), nullable=True),
    Column("memo", String(500), nullable=True),
    #: the kind's other national fields (JSON)
    Column("extra", Text, nullable=True),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("msgid", String(ID), nullable=False),
    Column("opter", String(ID), nullable=True),
    Column("opter_name", String(50), nullable=True),
    #: the undo (2502 / 2504): when, by which message, why
    Column("revs_time", DateTime, nullable=True),
    Column("revs_msgid", String(ID), nullable=True),
    Column("revs_memo", String(500), nullable=True),
    *audit_cols(),
    CheckConstraint("dcla_kind IN ('transfer', 'chronic', 'maternity')", name="kind"),
    CheckConstraint("vali_flag IN ('0', '1')", name="vali_flag"),
)
Index(None, trt_dcla.c.psn_no, trt_dcla.c.dcla_kind)
Index(None, trt_dcla.c.fixmedins_code, trt_dcla.c.psn_no)
