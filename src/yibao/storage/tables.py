"""The row store's tables (SQLAlchemy Core), portable across SQLite, MariaDB/MySQL and TiDB.

Portability rules (docs/conventions.md): every string has a length; exact numbers are scaled
integers (`storage.types`); JSON is stored as TEXT; no triggers; constraints are named by the
convention below; primary keys are natural business ids or `kit.ids` ids, never an
AUTO_INCREMENT counter, so that inserts spread over TiDB Regions.

Sections: institutions and credentials · insured persons · catalogs · visits and fees ·
settlements · accumulators · message log and change log · console (users, sessions, audit) ·
files.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.mysql import LONGBLOB, MEDIUMTEXT

from yibao.storage.types import Money, Price, Qty, Ratio

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Common lengths (national interface: C30 ids, C6 codes, C50 names/cert numbers).
ID = 30
CODE = 6


def _audit_cols() -> list[Column[object]]:
    return [
        Column("created_at", DateTime, nullable=False),
        Column("updated_at", DateTime, nullable=False),
    ]


# ---------------------------------------------------------------------------------------------
# Institutions (定点医药机构) and their credentials
# ---------------------------------------------------------------------------------------------

fixmedins = Table(
    "fixmedins",
    metadata,
    Column("fixmedins_code", String(ID), primary_key=True),
    Column("fixmedins_name", String(200), nullable=False),
    #: hospital | clinic | pharmacy (codes.dicts.InstitutionKind)
    Column("kind", String(16), nullable=False),
    #: "1" | "2" | "3"; pharmacies "0" (codes.dicts.HospLv)
    Column("hosp_lv", String(3), nullable=False),
    Column("admdvs", String(CODE), nullable=False),
    #: pharmacy chain (or hospital group) this institution belongs to
    Column("parent_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=True),
    Column("vali_flag", String(1), nullable=False, default="1"),
    *_audit_cols(),
)
Index(None, fixmedins.c.parent_code)
Index(None, fixmedins.c.admdvs)

fixmedins_credential = Table(
    "fixmedins_credential",
    metadata,
    #: the public half, sent as header x-tif-paasid
    Column("paasid", String(64), primary_key=True),
    Column("fixmedins_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=False),
    #: sha256 hex of the secret sent as header x-yibao-key; the secret itself is never stored
    Column("secret_sha256", String(64), nullable=False),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
)
Index(None, fixmedins_credential.c.fixmedins_code)

sign_in = Table(
    "sign_in",
    metadata,
    Column("sign_no", String(ID), primary_key=True),
    Column("fixmedins_code", String(ID), nullable=False),
    Column("opter_no", String(ID), nullable=False),
    Column("mac", String(64), nullable=True),
    Column("ip", String(64), nullable=True),
    Column("sign_time", DateTime, nullable=False),
    Column("signout_time", DateTime, nullable=True),
)
Index(None, sign_in.c.fixmedins_code)

# ---------------------------------------------------------------------------------------------
# Insured persons (参保人), their insurance and identities
# ---------------------------------------------------------------------------------------------

psn = Table(
    "psn",
    metadata,
    Column("psn_no", String(ID), primary_key=True),
    Column("psn_cert_type", String(CODE), nullable=False, default="01"),
    Column("certno", String(50), nullable=False),
    Column("psn_name", String(50), nullable=False),
    Column("gend", String(CODE), nullable=False),
    Column("naty", String(3), nullable=False, default="01"),
    Column("brdy", Date, nullable=False),
    Column("tel", String(50), nullable=True),
    #: social-security card number and its serial (mdtrt_cert_type 03)
    Column("card_no", String(50), nullable=True),
    Column("card_sn", String(50), nullable=True),
    #: e-voucher token (mdtrt_cert_type 01)
    Column("ec_token", String(64), nullable=True),
    #: family for personal-account sharing (家庭共济): persons with the same family_id
    Column("family_id", String(ID), nullable=True),
    *_audit_cols(),
    UniqueConstraint("psn_cert_type", "certno"),
)
Index(None, psn.c.certno)
Index(None, psn.c.card_no, unique=True)
Index(None, psn.c.ec_token, unique=True)
Index(None, psn.c.family_id)

psn_insu = Table(
    "psn_insu",
    metadata,
    Column("psn_no", String(ID), ForeignKey("psn.psn_no"), primary_key=True),
    Column("insutype", String(CODE), primary_key=True),
    Column("psn_type", String(CODE), nullable=False),
    Column("psn_insu_stas", String(CODE), nullable=False, default="1"),
    Column("psn_insu_date", Date, nullable=False),
    Column("paus_insu_date", Date, nullable=True),
    Column("cvlserv_flag", String(1), nullable=False, default="0"),
    Column("insuplc_admdvs", String(CODE), nullable=False),
    Column("emp_name", String(200), nullable=True),
    #: personal-account balance (职工个人账户); residents keep 0.00
    Column("balc", Money(), nullable=False, default=0),
    *_audit_cols(),
)

psn_idet = Table(
    "psn_idet",
    metadata,
    Column("psn_no", String(ID), ForeignKey("psn.psn_no"), primary_key=True),
    Column("psn_idet_type", String(3), primary_key=True),
    Column("begntime", DateTime, primary_key=True),
    Column("psn_type_lv", String(3), nullable=True),
    Column("endtime", DateTime, nullable=True),
    Column("memo", String(500), nullable=True),
)

# ---------------------------------------------------------------------------------------------
# Catalogs (owned by yibao.catalog; see docs/catalog.md) — BEGIN catalog section
#
# A catalog version is one applied import. Rows are never deleted: a later version that
# re-publishes a code with the same begndate supersedes the earlier row (superseded_by = the
# later version, vali_flag "0"); the effective terms of a code are its rows with vali_flag "1",
# whose [begndate, enddate] never overlap.
# ---------------------------------------------------------------------------------------------

catalog_version = Table(
    "catalog_version",
    metadata,
    Column("version_id", BigInteger, primary_key=True, autoincrement=False),
    #: 1, 2, 3 … in the order versions were applied; 1301's `ver` and the cache key
    Column("ver_no", Integer, nullable=False, unique=True),
    #: the operator's label for the version (default: the apply time yyyyMMddHHmmss)
    Column("ver", String(30), nullable=False),
    #: the catalog kinds / list types the version touches, e.g. "101,201,diagnosis"
    Column("kinds", String(200), nullable=False),
    Column("source", String(200), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("rejected_count", Integer, nullable=False, default=0),
    Column("memo", String(500), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(50), nullable=False),
)

#: 医保目录 items: list types 101 西药中成药, 102 中药饮片, 103 医疗机构制剂, 104 民族药,
#: 201 医疗服务项目, 301 医用耗材 (501 长护服务项目).
catalog_item = Table(
    "catalog_item",
    metadata,
    Column("item_id", BigInteger, primary_key=True, autoincrement=False),
    Column("version_id", BigInteger, ForeignKey("catalog_version.version_id"), nullable=False),
    #: the version that superseded this row (null while effective)
    Column("superseded_by", BigInteger, nullable=True),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("list_type", String(CODE), nullable=False),
    Column("hilist_code", String(50), nullable=False),
    Column("hilist_name", String(200), nullable=False),
    Column("chrgitm_lv", String(3), nullable=False),
    Column("med_chrgitm_type", String(CODE), nullable=True),
    Column("selfpay_prop", Ratio(), nullable=False, default=0),
    #: person types whose ratio differs: "1201:0.05;1401:0"
    Column("selfpay_prop_psn", String(500), nullable=True),
    Column("hilist_pric_uplmt_amt", Price(), nullable=True),
    Column("lmt_used_flag", String(1), nullable=False, default="0"),
    Column("bas_medn_flag", String(1), nullable=False, default="0"),
    Column("hi_nego_drug_flag", String(1), nullable=False, default="0"),
    Column("chld_medc_flag", String(1), nullable=False, default="0"),
    Column("list_sp_item_flag", String(1), nullable=False, default="0"),
    Column("drt_reim_flag", String(1), nullable=False, default="0"),
    Column("prcunt", String(20), nullable=True),
    Column("spec", String(200), nullable=True),
    Column("dosform_name", String(100), nullable=True),
    Column("prodentp_name", String(200), nullable=True),
    #: restrictions (限定支付范围); null = unrestricted. Ages in whole years, max exclusive.
    Column("lmt_gend", String(1), nullable=True),
    Column("lmt_age_min", Integer, nullable=True),
    Column("lmt_age_max", Integer, nullable=True),
    #: allowed institution levels, e.g. "2,3"
    Column("lmt_hosp_lv", String(20), nullable=True),
    #: allowed med_type codes or the tokens ipt/otp, e.g. "ipt" or "11,14"
    Column("lmt_med_type", String(200), nullable=True),
    #: indications: ICD-10 codes or prefixes, e.g. "E10,E11"
    Column("lmt_diag_codes", String(2000), nullable=True),
    Column("lmt_days", Qty(), nullable=True),
    Column("lmt_cnt", Qty(), nullable=True),
    Column("wubi", String(50), nullable=True),
    Column("pinyin", String(50), nullable=True),
    #: 限制使用范围 as published, or a note
    Column("memo", String(500), nullable=True),
    Column("begndate", Date, nullable=False),
    Column("enddate", Date, nullable=True),
    Column("created_at", DateTime, nullable=False),
)
Index(None, catalog_item.c.hilist_code, catalog_item.c.begndate)
Index(None, catalog_item.c.version_id)
Index(None, catalog_item.c.list_type, catalog_item.c.version_id)

#: Code catalogs: catalog_kind diagnosis (ICD-10 医保版), operation (ICD-9-CM-3 医保版),
#: chronic_disease (门诊慢特病), disease_payment (按病种), day_surgery (日间手术).
catalog_dise = Table(
    "catalog_dise",
    metadata,
    Column("dise_id", BigInteger, primary_key=True, autoincrement=False),
    Column("version_id", BigInteger, ForeignKey("catalog_version.version_id"), nullable=False),
    Column("superseded_by", BigInteger, nullable=True),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("catalog_kind", String(20), nullable=False),
    Column("dise_codg", String(30), nullable=False),
    Column("dise_name", String(300), nullable=False),
    Column("lmt_gend", String(1), nullable=True),
    Column("memo", String(500), nullable=True),
    Column("begndate", Date, nullable=False),
    Column("enddate", Date, nullable=True),
    Column("created_at", DateTime, nullable=False),
)
Index(None, catalog_dise.c.catalog_kind, catalog_dise.c.dise_codg, catalog_dise.c.begndate)
Index(None, catalog_dise.c.version_id)

#: 目录对照: an institution's own item code (medins_list_codg) mapped to a national code.
#: Never deleted; every state change also appends a catalog_mapping_event row.
catalog_mapping = Table(
    "catalog_mapping",
    metadata,
    Column("map_id", BigInteger, primary_key=True, autoincrement=False),
    Column("fixmedins_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=False),
    Column("medins_list_codg", String(150), nullable=False),
    Column("medins_list_name", String(200), nullable=False),
    Column("hilist_code", String(50), nullable=False),
    Column("list_type", String(CODE), nullable=False),
    Column("begndate", Date, nullable=False),
    Column("enddate", Date, nullable=True),
    #: submitted | approved | rejected | cancelled | superseded (codes.dicts.MapStatus)
    Column("map_stas", String(12), nullable=False),
    Column("submitted_at", DateTime, nullable=False),
    Column("submitted_by", String(50), nullable=False),
    Column("reviewed_at", DateTime, nullable=True),
    Column("reviewed_by", String(50), nullable=True),
    Column("review_memo", String(500), nullable=True),
    Column("cancelled_at", DateTime, nullable=True),
    #: the mapping that replaced this one once approved
    Column("superseded_by", BigInteger, nullable=True),
    #: the 3301 message that submitted it
    Column("msgid", String(ID), nullable=True),
    #: JSON: the rest of the 3301 row (aprvno, dosform, spec, pacspec, prcunt, memo …)
    Column("extra", Text, nullable=True),
    Column("updated_at", DateTime, nullable=False),
)
Index(None, catalog_mapping.c.fixmedins_code, catalog_mapping.c.medins_list_codg)
Index(None, catalog_mapping.c.map_stas, catalog_mapping.c.submitted_at)

catalog_mapping_event = Table(
    "catalog_mapping_event",
    metadata,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("map_id", BigInteger, ForeignKey("catalog_mapping.map_id"), nullable=False),
    #: submit | approve | reject | cancel | supersede
    Column("event", String(12), nullable=False),
    Column("map_stas", String(12), nullable=False),
    Column("actor", String(50), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("memo", String(500), nullable=True),
)
Index(None, catalog_mapping_event.c.map_id)

# ----------------------------------------------------------- END catalog section -------------

# ---------------------------------------------------------------------------------------------
# Visits (就诊 mdtrt), diagnoses and fee details
# ---------------------------------------------------------------------------------------------

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
    Column("dscg_way", String(3), nullable=True),
    #: registered | admitted | discharged | settled | cancelled
    Column("mdtrt_stas", String(16), nullable=False),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("msgid", String(ID), nullable=True),
    Column("extra", Text, nullable=True),
    *_audit_cols(),
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
    #: chld_medc, list_sp_item, drt_reim ("0"/"1" each, in that order)
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
Index(None, fee_detail.c.setl_id)

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
    #: JSON of the replica row (no personal identifiers; amounts in fen)
    Column("payload", Text, nullable=False),
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
    #: admin | operator | auditor | analyst (roles grow with the console issue)
    Column("role", String(16), nullable=False),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("created_at", DateTime, nullable=False),
    Column("last_login_at", DateTime, nullable=True),
)

auth_session = Table(
    "auth_session",
    metadata,
    #: sha256 hex of the bearer token / session cookie; the token itself is never stored
    Column("token_sha256", String(64), primary_key=True),
    Column("username", String(50), ForeignKey("agency_user.username"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String(50), nullable=False),
    Column("action", String(50), nullable=False),
    Column("target", String(100), nullable=True),
    Column("detail", Text, nullable=True),
)
Index(None, audit_log.c.at)

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
