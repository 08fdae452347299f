"""An institution's departments (医保科室, uploaded with 3401/3401A, changed with 3402, cancelled
with 3403) and its practitioners (医执人员: doctors, nurses, pharmacists, technicians with their
national codes, queried with 5102)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from yibao.storage.schema.base import CODE, ID, audit_cols, metadata

fixmedins_dept = Table(
    "fixmedins_dept",
    metadata,
    Column("dept_id", String(ID), primary_key=True),
    Column("fixmedins_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=False),
    #: 医院科室编码: unique within the institution (the national spec's 院内唯一编码)
    Column("hosp_dept_codg", String(20), nullable=False),
    Column("hosp_dept_name", String(100), nullable=False),
    #: 科别 (national department dictionary)
    Column("caty", String(CODE), nullable=False),
    Column("begntime", DateTime, nullable=False),
    Column("endtime", DateTime, nullable=True),
    Column("itro", String(500), nullable=True),
    Column("dept_resper_name", String(50), nullable=True),
    Column("dept_resper_tel", String(50), nullable=True),
    Column("dept_med_serv_scp", String(500), nullable=True),
    Column("dept_estbdat", DateTime, nullable=True),
    Column("aprv_bed_cnt", Integer, nullable=True),
    Column("hi_crtf_bed_cnt", Integer, nullable=True),
    Column("poolarea_no", String(CODE), nullable=True),
    Column("dr_psncnt", Integer, nullable=True),
    Column("phar_psncnt", Integer, nullable=True),
    Column("nurs_psncnt", Integer, nullable=True),
    Column("tecn_psncnt", Integer, nullable=True),
    Column("memo", String(500), nullable=True),
    #: "1" valid; "0" cancelled by 3403 (kept: visits and fee lines name the department)
    Column("vali_flag", String(1), nullable=False, default="1"),
    #: the message that last wrote the row (3401/3401A/3402/3403)
    Column("msgid", String(ID), nullable=True),
    *audit_cols(),
    UniqueConstraint("fixmedins_code", "hosp_dept_codg"),
)

fixmedins_prac = Table(
    "fixmedins_prac",
    metadata,
    Column("prac_id", String(ID), primary_key=True),
    Column("fixmedins_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=False),
    #: 执业人员代码: the national code (医保医师/护士/药师编码), unique within the institution
    Column("prac_psn_code", String(20), nullable=False),
    #: 执业人员自编号: the institution's own staff number
    Column("prac_psn_no", String(20), nullable=True),
    Column("prac_psn_name", String(50), nullable=False),
    #: 执业人员分类 (medins_psn_type): 1 医师, 2 护士, 3 药师, 4 医技人员
    Column("prac_psn_type", String(CODE), nullable=False),
    Column("psn_cert_type", String(CODE), nullable=True),
    Column("certno", String(50), nullable=True),
    Column("prac_psn_cert", String(30), nullable=True),
    Column("prac_cert_no", String(30), nullable=True),
    #: 医保医师标志 "1"/"0"
    Column("hi_dr_flag", String(3), nullable=False, default="0"),
    #: the department the practitioner works in (a `fixmedins_dept.hosp_dept_codg`, or the
    #: department code the HIS bills under)
    Column("hosp_dept_codg", String(20), nullable=True),
    Column("begntime", DateTime, nullable=False),
    Column("endtime", DateTime, nullable=True),
    Column("chg_rea", String(200), nullable=True),
    Column("vali_flag", String(1), nullable=False, default="1"),
    *audit_cols(),
    UniqueConstraint("fixmedins_code", "prac_psn_code"),
)
Index(None, fixmedins_prac.c.fixmedins_code, fixmedins_prac.c.prac_psn_type)
