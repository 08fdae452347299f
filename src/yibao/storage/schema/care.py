"""Visits (就诊), diagnoses, fee details, settlements with their fund details, and the per-person annual accumulators."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from yibao.storage.schema.base import CODE, ID, audit_cols, metadata
from yibao.storage.types import Money, Price, Qty, Ratio

# ---------------------------------------------------------------------------------------------
# Visits (就诊 mdtrt), diagnoses and fee details
# ---------------------------------------------------------------------------------------------

#: position of the "self-pay forced by a restriction or mapping" marker in fee_detail.flags
#: (after the six catalog flags)
FORCED_SELFPAY = 6


def forced_selfpay(flags: str | None) -> bool:
    """Whether a line's `flags` mark it made fully self-paid at settlement."""
    return flags is not None and len(flags) > FORCED_SELFPAY and flags[FORCED_SELFPAY] == "1"


mdtrt = Table(
    "mdtrt",
    metadata,
    Column("mdtrt_id", String(ID), primary_key=True),
    Column("fixmedins_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=False),
    Column("psn_no", String(ID), ForeignKey("psn.psn_no"), nullable=False),
    Column("insutype", String(CODE), nullable=False),
    Column("med_type", String(CODE), nullable=False),
    #: outpatient | inpatient | pharmacy
    Column("mdtrt_kind", String(16), nullable=False),
    Column("mdtrt_cert_type", String(3), nullable=False),
    Column("mdtrt_cert_no", String(50), nullable=True),
    Column("ipt_otp_no", String(ID), nullable=True),
    Column("begntime", DateTime, nullable=False),
    Column("endtime", DateTime, nullable=True),
    Column("atddr_no", String(ID), nullable=True),
    Column("dr_name", String(50), nullable=True),
    Column("dept_code", String(ID), nullable=True),
    Column("dept_name", String(100), nullable=True),
    Column("caty", String(CODE), nullable=True),
    Column("adm_bed", String(ID), nullable=True),
    Column("main_cond_dscr", String(1000), nullable=True),
    Column("dise_codg", String(ID), nullable=True),
    Column("dise_name", String(500), nullable=True),
    #: main diagnosis (admission, then discharge)
    Column("maindiag_code", String(20), nullable=True),
    Column("maindiag_name", String(300), nullable=True),
    #: every valid diagnosis code of the visit, comma-separated, in (stage, diag_srt_no)
    #: order — kept with the visit so that its replica row carries them (post-hoc re-runs the
    #: indication rule on them; settlement.repo.replace_diagnoses keeps it)
    Column("diag_codes", Text, nullable=True),
    Column("dscg_way", String(3), nullable=True),
    #: registered | admitted | discharged | settled | cancelled
    Column("mdtrt_stas", String(16), nullable=False),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("msgid", String(ID), nullable=True),
    Column("extra", Text, nullable=True),
    *audit_cols(),
)
Index(None, mdtrt.c.psn_no, mdtrt.c.begntime)
Index(None, mdtrt.c.fixmedins_code, mdtrt.c.ipt_otp_no)

diag = Table(
    "diag",
    metadata,
    Column("mdtrt_id", String(ID), ForeignKey("mdtrt.mdtrt_id"), primary_key=True),
    #: otp (2203) | adm (2401) | dscg (2402)
    Column("stage", String(8), primary_key=True),
    Column("diag_srt_no", Integer, primary_key=True),
    Column("diag_type", String(3), nullable=False),
    Column("maindiag_flag", String(1), nullable=False, default="0"),
    Column("diag_code", String(20), nullable=False),
    Column("diag_name", String(100), nullable=False),
    Column("diag_dept", String(50), nullable=True),
    Column("dise_dor_no", String(ID), nullable=True),
    Column("dise_dor_name", String(50), nullable=True),
    Column("diag_time", DateTime, nullable=True),
    Column("vali_flag", String(1), nullable=False, default="1"),
)

fee_detail = Table(
    "fee_detail",
    metadata,
    Column("mdtrt_id", String(ID), ForeignKey("mdtrt.mdtrt_id"), primary_key=True),
    Column("feedetl_sn", String(ID), primary_key=True),
    Column("psn_no", String(ID), nullable=False),
    Column("fixmedins_code", String(ID), nullable=False),
    Column("chrg_bchno", String(ID), nullable=True),
    Column("init_feedetl_sn", String(ID), nullable=True),
    Column("rxno", String(ID), nullable=True),
    Column("drord_no", String(ID), nullable=True),
    Column("rx_circ_flag", String(1), nullable=True),
    Column("fee_ocur_time", DateTime, nullable=False),
    Column("med_list_codg", String(50), nullable=False),
    Column("medins_list_codg", String(150), nullable=True),
    Column("hilist_name", String(200), nullable=True),
    Column("list_type", String(CODE), nullable=True),
    Column("det_item_fee_sumamt", Money(), nullable=False),
    Column("cnt", Qty(), nullable=False),
    Column("pric", Price(), nullable=False),
    Column("pric_uplmt_amt", Price(), nullable=True),
    Column("selfpay_prop", Ratio(), nullable=True),
    Column("fulamt_ownpay_amt", Money(), nullable=False),
    Column("overlmt_amt", Money(), nullable=False),
    Column("preselfpay_amt", Money(), nullable=False),
    Column("inscp_scp_amt", Money(), nullable=False),
    Column("chrgitm_lv", String(3), nullable=True),
    Column("med_chrgitm_type", String(CODE), nullable=True),
    #: the catalog flags of the line, as 2204 returns them: lmt_used, bas_medn, hi_nego_drug,
    #: chld_medc, list_sp_item, drt_reim ("0"/"1" each, in that order), then the marker of a
    #: line made self-pay by a restriction or a mapping (FORCED_SELFPAY)
    Column("flags", String(12), nullable=True),
    Column("hosp_appr_flag", String(1), nullable=True),
    Column("bilg_dept_codg", String(ID), nullable=True),
    Column("bilg_dept_name", String(100), nullable=True),
    Column("bilg_dr_codg", String(ID), nullable=True),
    Column("bilg_dr_name", String(50), nullable=True),
    Column("sin_dos_dscr", String(200), nullable=True),
    Column("used_frqu_dscr", String(200), nullable=True),
    Column("prd_days", Qty(), nullable=True),
    Column("medc_way_dscr", String(200), nullable=True),
    Column("memo", String(500), nullable=True),
    #: settlement that consumed this line (null while unsettled)
    Column("setl_id", String(ID), nullable=True),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("msgid", String(ID), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("cancelled_at", DateTime, nullable=True),
)
# No index on setl_id: a settlement's lines are found through its visit (`mdtrt_id` leads the
# primary key; a settlement never takes lines of another visit). The index would cost every
# line a third B-tree insert and the store its pages for no query (docs/measurements.md).

# ---------------------------------------------------------------------------------------------
# Settlements (结算) and their fund details (setldetail)
# ---------------------------------------------------------------------------------------------

setl = Table(
    "setl",
    metadata,
    Column("setl_id", String(ID), primary_key=True),
    Column("mdtrt_id", String(ID), ForeignKey("mdtrt.mdtrt_id"), nullable=False),
    Column("psn_no", String(ID), ForeignKey("psn.psn_no"), nullable=False),
    Column("fixmedins_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=False),
    Column("insutype", String(CODE), nullable=False),
    Column("psn_type", String(CODE), nullable=False),
    Column("med_type", String(CODE), nullable=False),
    Column("clr_type", String(CODE), nullable=False),
    Column("clr_way", String(CODE), nullable=False),
    #: clearing institution region (the institution's pooling admdvs)
    Column("clr_optins", String(CODE), nullable=False),
    Column("hosp_lv", String(3), nullable=False),
    Column("insuplc_admdvs", String(CODE), nullable=False),
    Column("mdtrt_cert_type", String(3), nullable=True),
    Column("setl_time", DateTime, nullable=False),
    #: the settlement's year for the annual accumulators
    Column("year", Integer, nullable=False),
    Column("age", Integer, nullable=True),
    Column("chrg_bchno", String(ID), nullable=True),
    Column("dise_codg", String(ID), nullable=True),
    Column("dise_name", String(500), nullable=True),
    Column("maindiag_code", String(20), nullable=True),
    Column("begndate", DateTime, nullable=True),
    Column("enddate", DateTime, nullable=True),
    Column("medfee_sumamt", Money(), nullable=False),
    Column("fulamt_ownpay_amt", Money(), nullable=False),
    Column("overlmt_selfpay", Money(), nullable=False),
    Column("preselfpay_amt", Money(), nullable=False),
    Column("inscp_scp_amt", Money(), nullable=False),
    Column("act_pay_dedc", Money(), nullable=False),
    Column("hifp_pay", Money(), nullable=False),
    Column("pool_prop_selfpay", Ratio(), nullable=True),
    Column("cvlserv_pay", Money(), nullable=False),
    Column("hifes_pay", Money(), nullable=False),
    Column("hifmi_pay", Money(), nullable=False),
    Column("hifob_pay", Money(), nullable=False),
    Column("maf_pay", Money(), nullable=False),
    Column("oth_pay", Money(), nullable=False),
    Column("hifdm_pay", Money(), nullable=False),
    Column("fund_pay_sumamt", Money(), nullable=False),
    Column("psn_part_amt", Money(), nullable=False),
    Column("acct_pay", Money(), nullable=False),
    Column("psn_cash_pay", Money(), nullable=False),
    Column("hosp_part_amt", Money(), nullable=False),
    Column("acct_mulaid_pay", Money(), nullable=False),
    #: personal-account balance after this settlement (or reversal)
    Column("balc", Money(), nullable=True),
    #: fee structure for analytics (药占比, 耗占比, 检查检验): sums of the settled lines
    Column("drug_sumamt", Money(), nullable=False, default=0),
    Column("mcs_sumamt", Money(), nullable=False, default=0),
    Column("exam_sumamt", Money(), nullable=False, default=0),
    Column("fee_line_cnt", Integer, nullable=False, default=0),
    #: the settling request's msgid (medins_setl_id)
    Column("medins_setl_id", String(ID), nullable=False),
    #: "0" an ordinary settlement, "1" a reversal record (冲销/冲正; amounts negated)
    Column("refd_setl_flag", String(1), nullable=False, default="0"),
    #: on a reversal record: the settlement it reverses
    Column("init_setl_id", String(ID), nullable=True),
    #: "1" valid, "0" reversed (the original of a reversal record)
    Column("vali_flag", String(1), nullable=False, default="1"),
    #: 2208/2305/2103 (撤销) or 2601 (冲正) on reversal records
    Column("revs_infno", String(6), nullable=True),
    Column("invono", String(20), nullable=True),
    Column("opter_id", String(ID), nullable=True),
    Column("opter_name", String(50), nullable=True),
    Column("extra", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
Index(None, setl.c.mdtrt_id)
Index(None, setl.c.psn_no, setl.c.setl_time)
Index(None, setl.c.fixmedins_code, setl.c.setl_time)
Index(None, setl.c.setl_time)
Index(None, setl.c.medins_setl_id)

setl_fund = Table(
    "setl_fund",
    metadata,
    Column("setl_id", String(ID), ForeignKey("setl.setl_id"), primary_key=True),
    Column("fund_pay_type", String(CODE), primary_key=True),
    Column("inscp_scp_amt", Money(), nullable=False),
    Column("crt_payb_lmt_amt", Money(), nullable=True),
    Column("fund_payamt", Money(), nullable=False),
    Column("setl_proc_info", String(4000), nullable=True),
)

# ---------------------------------------------------------------------------------------------
# Per-person annual accumulators (年度累计): deductible used, pool paid, top-ups, admissions…
# Keys are the policy engine's (yibao.policy); amounts in fen via Money.
# ---------------------------------------------------------------------------------------------

psn_accum = Table(
    "psn_accum",
    metadata,
    Column("psn_no", String(ID), ForeignKey("psn.psn_no"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("acc_key", String(40), primary_key=True),
    Column("amount", Money(), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
