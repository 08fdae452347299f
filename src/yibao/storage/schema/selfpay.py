"""Self-pay patients (自费病人) an institution reports with 4261, and what 4262 reconciled.

Each institution's records are its own: every key starts with `fixmedins_code`, and the visit
number `mdtrt_id` is the institution's own (a self-pay visit has no platform visit). A
re-upload of a visit replaces its diagnoses and fee details (docs/interface/selfpay.md).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, PrimaryKeyConstraint, String, Table

from yibao.storage.schema.base import CODE, ID, audit_cols, metadata
from yibao.storage.types import Money, Price, Qty

selfpay_mdtrt = Table(
    "selfpay_mdtrt",
    metadata,
    Column("fixmedins_code", String(ID), nullable=False),
    Column("mdtrt_id", String(ID), nullable=False),
    Column("psn_cert_type", String(CODE), nullable=True),
    Column("certno", String(50), nullable=True),
    Column("psn_name", String(50), nullable=False),
    Column("gend", String(CODE), nullable=True),
    Column("brdy", String(20), nullable=True),
    Column("med_type", String(CODE), nullable=False),
    Column("ipt_otp_no", String(ID), nullable=True),
    Column("begntime", DateTime, nullable=False),
    Column("endtime", DateTime, nullable=True),
    Column("dise_no", String(ID), nullable=True),
    Column("dise_name", String(500), nullable=True),
    Column("chfpdr_code", String(ID), nullable=True),
    Column("chfpdr_name", String(50), nullable=True),
    #: the sum of the visit's fee details (4261 refuses a stated total that differs)
    Column("medfee_sumamt", Money(), nullable=False),
    Column("fee_cnt", Integer, nullable=False),
    Column("diag_cnt", Integer, nullable=False),
    #: how many times the visit was uploaded (1 = first upload)
    Column("upload_cnt", Integer, nullable=False),
    Column("msgid", String(ID), nullable=False),
    #: the last 4262 of the visit: its result ("0" 平 / "1" 不平, codes.dicts.StmtRslt), the
    #: institution's total and when; all null until reconciled or after a re-upload
    Column("stmt_rslt", String(1), nullable=True),
    Column("stmt_fee_sumamt", Money(), nullable=True),
    Column("stmt_time", DateTime, nullable=True),
    Column("stmt_msgid", String(ID), nullable=True),
    *audit_cols(),
    PrimaryKeyConstraint("fixmedins_code", "mdtrt_id"),
)

selfpay_diag = Table(
    "selfpay_diag",
    metadata,
    Column("fixmedins_code", String(ID), nullable=False),
    Column("mdtrt_id", String(ID), nullable=False),
    Column("diag_srt_no", Integer, nullable=False),
    Column("diag_info_id", String(ID), nullable=True),
    Column("inout_diag_type", String(CODE), nullable=True),
    Column("diag_type", String(CODE), nullable=True),
    Column("maindiag_flag", String(1), nullable=False),
    Column("diag_code", String(20), nullable=False),
    Column("diag_name", String(100), nullable=False),
    Column("diag_dept", String(50), nullable=True),
    Column("diag_dr_code", String(ID), nullable=True),
    Column("diag_dr_name", String(50), nullable=True),
    Column("diag_time", DateTime, nullable=True),
    PrimaryKeyConstraint("fixmedins_code", "mdtrt_id", "diag_srt_no"),
)

selfpay_fee = Table(
    "selfpay_fee",
    metadata,
    Column("fixmedins_code", String(ID), nullable=False),
    Column("mdtrt_id", String(ID), nullable=False),
    #: 记账流水号 bkkp_sn, unique within the visit
    Column("bkkp_sn", String(ID), nullable=False),
    Column("fee_ocur_time", DateTime, nullable=False),
    Column("med_list_codg", String(50), nullable=True),
    Column("medins_list_codg", String(150), nullable=False),
    Column("medins_list_name", String(200), nullable=True),
    Column("med_chrgitm_type", String(CODE), nullable=True),
    Column("prodname", String(200), nullable=True),
    Column("cnt", Qty(), nullable=False),
    Column("pric", Price(), nullable=False),
    Column("det_item_fee_sumamt", Money(), nullable=False),
    Column("bilg_dept_codg", String(ID), nullable=True),
    Column("bilg_dept_name", String(100), nullable=True),
    Column("bilg_dr_codg", String(ID), nullable=True),
    Column("bilg_dr_name", String(50), nullable=True),
    PrimaryKeyConstraint("fixmedins_code", "mdtrt_id", "bkkp_sn"),
)
