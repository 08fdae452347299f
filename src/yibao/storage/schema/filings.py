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

#: 异地就医备案: a person insured in one pooling region registered for care in another —
#: long-term residence (异地长期居住) or temporary travel (临时外出就医), valid from `begndate`
#: to `enddate`. Written by the agency (console API, `yibao enrol remote-registration`), read by
#: settlement: non-emergency care outside the insured region needs one valid on the day. Never
#: deleted: a revocation sets `vali_flag` "0" with who, when and why.
remote_reg = Table(
    "remote_reg",
    metadata,
    Column("remote_reg_id", String(ID), primary_key=True),
    Column("psn_no", String(ID), ForeignKey("psn.psn_no"), nullable=False),
    #: None: every insurance of the person
    Column("insutype", String(CODE), nullable=True),
    #: the person's insured region when registered (参保地)
    Column("insuplc_admdvs", String(CODE), nullable=False),
    #: the region (or a district of it) where the person will be treated (就医地)
    Column("mdtrt_area_admdvs", String(CODE), nullable=False),
    #: long_term 异地长期居住 | temporary 临时外出就医
    Column("reg_type", String(16), nullable=False),
    Column("begndate", Date, nullable=False),
    #: inclusive; None = open-ended (long-term residence only)
    Column("enddate", Date, nullable=True),
    Column("tel", String(50), nullable=True),
    Column("addr", String(200), nullable=True),
    Column("memo", String(500), nullable=True),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("crte_by", String(50), nullable=False),
    Column("revs_time", DateTime, nullable=True),
    Column("revs_by", String(50), nullable=True),
    Column("revs_memo", String(500), nullable=True),
    *audit_cols(),
    CheckConstraint("reg_type IN ('long_term', 'temporary')", name="reg_type"),
    CheckConstraint("vali_flag IN ('0', '1')", name="vali_flag"),
)
Index(None, remote_reg.c.psn_no, remote_reg.c.vali_flag)
Index(None, remote_reg.c.mdtrt_area_admdvs, remote_reg.c.begndate)
