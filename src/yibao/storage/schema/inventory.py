"""Pharmacies' 进销存 (3501–3507): one ledger row per uploaded stocktake, stock change,
purchase, purchase return, sale and sale return line, kept per store.

A row is never deleted: 3507 sets `vali_flag` to "0" and stamps who removed it, so a review
can still see what a store once declared.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, String, Table

from yibao.storage.schema.base import CODE, ID, audit_cols, metadata
from yibao.storage.types import Price, Qty

inv_record = Table(
    "inv_record",
    metadata,
    Column("rec_id", String(ID), primary_key=True),
    Column("fixmedins_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=False),
    #: the transaction that uploaded the row (3501 … 3506)
    Column("infno", String(CODE), nullable=False),
    #: 进销存数据类型: 1 盘存, 2 库存变更, 3 采购/退货, 4 销售/退货 (what 3507 names)
    Column("inv_data_type", String(1), nullable=False),
    #: stocktake | change_in | change_out | purchase | purchase_return | sale | sale_return
    Column("movement", String(16), nullable=False),
    Column("inv_chg_type", String(CODE), nullable=True),
    Column("fixmedins_bchno", String(ID), nullable=False),
    Column("med_list_codg", String(50), nullable=False),
    Column("fixmedins_hilist_id", String(ID), nullable=False),
    Column("fixmedins_hilist_name", String(200), nullable=False),
    #: the quantity as sent (never negative); `movement` says which way it moves the stock
    Column("cnt", Qty(), nullable=False),
    #: finl_trns_pric (3503–3506) or pric (3502)
    Column("pric", Price(), nullable=True),
    #: invdate (at midnight), inv_chg_time, purc_retn_stoin_time or sel_retn_time
    Column("occurred_at", DateTime, nullable=False),
    Column("rx_flag", String(3), nullable=True),
    Column("trdn_flag", String(3), nullable=True),
    Column("manu_lotnum", String(30), nullable=True),
    Column("manu_date", Date, nullable=True),
    Column("expy_end", Date, nullable=True),
    Column("spler_name", String(200), nullable=True),
    Column("spler_pmtno", String(50), nullable=True),
    Column("dynt_no", String(50), nullable=True),
    Column("purc_invo_codg", String(50), nullable=True),
    Column("purc_invo_no", String(50), nullable=True),
    Column("prodentp_name", String(200), nullable=True),
    Column("aprvno", String(100), nullable=True),
    Column("prod_geay_flag", String(3), nullable=True),
    Column("setl_id", String(ID), nullable=True),
    Column("mdtrt_id", String(ID), nullable=True),
    Column("psn_no", String(ID), nullable=True),
    Column("mdtrt_setl_type", String(3), nullable=True),
    Column("rtal_docno", String(40), nullable=True),
    Column("stoout_no", String(40), nullable=True),
    Column("rxno", String(40), nullable=True),
    Column("rx_circ_flag", String(3), nullable=True),
    Column("drug_trac_codg", String(100), nullable=True),
    Column("prsc_dr_name", String(50), nullable=True),
    Column("phar_name", String(50), nullable=True),
    Column("phar_prac_cert_no", String(50), nullable=True),
    #: medins_prod_purc_no (3504) / medins_prod_sel_no (3506): the original record returned
    Column("orig_no", String(50), nullable=True),
    #: purc_retn_opter_name / sel_retn_opter_name / inv_chg_opter_name
    Column("opter_name", String(50), nullable=True),
    Column("memo", String(500), nullable=True),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("msgid", String(ID), nullable=False),
    #: the 3507 that removed the row
    Column("del_msgid", String(ID), nullable=True),
    Column("del_time", DateTime, nullable=True),
    *audit_cols(),
)
Index(None, inv_record.c.fixmedins_code, inv_record.c.med_list_codg, inv_record.c.occurred_at)
Index(None, inv_record.c.fixmedins_code, inv_record.c.inv_data_type, inv_record.c.fixmedins_bchno)
Index(None, inv_record.c.setl_id)
