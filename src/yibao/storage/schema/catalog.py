"""Catalogs (owned by yibao.catalog; see docs/catalog.md)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from yibao.storage.schema.base import CODE, ID, metadata
from yibao.storage.types import Price, Qty, Ratio

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
#: 105 中药配方颗粒 (LOCAL), 201 医疗服务项目, 301 医用耗材 (501 长护服务项目).
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
#: chronic_disease (门诊慢特病), disease_payment (按病种), day_surgery (日间手术),
#: tumour_morphology (肿瘤形态学), tcm_disease (中医疾病), tcm_syndrome (中医证候).
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
