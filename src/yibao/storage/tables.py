"""The row store's tables (SQLAlchemy Core), portable across SQLite, MariaDB/MySQL and TiDB.

Portability rules (docs/conventions.md): every string has a length; exact numbers are scaled
integers (`storage.types`); JSON is stored as TEXT; no triggers; constraints are named by the
convention below; primary keys are natural business ids or `kit.ids` ids, never an
AUTO_INCREMENT counter, so that inserts spread over TiDB Regions.

The tables live by area in `storage/schema/` (parties, catalog, care, platform); import them
from here. Areas: institutions and credentials · insured persons · catalogs · visits and fees ·
settlements · accumulators · message log, gateway nonces and change log · console (users,
sessions, audit) · files · and the national interface's further areas, one module each
(departments and practitioners, pharmacies' 进销存, …).
settlements · accumulators · message log, gateway nonces and change log · console (users, sessions, audit) ·
files · self-pay patients (4261–4263) · clearing (清算: applications, payment orders).
"""

from __future__ import annotations

from yibao.storage.schema.base import CODE, ID, NAMING_CONVENTION, metadata
from yibao.storage.schema.care import (
    diag,
    fee_detail,
    mdtrt,
    psn_accum,
    setl,
    setl_fund,
)
from yibao.storage.schema.cases import (
    review_case,
    review_case_file,
    review_case_hit,
    review_case_step,
)
from yibao.storage.schema.catalog import (
    catalog_dise,
    catalog_item,
    catalog_mapping,
    catalog_mapping_event,
    catalog_version,
)
from yibao.storage.schema.clearing import clr_appy, clr_deduction, clr_event, clr_item, clr_order
from yibao.storage.schema.departments import fixmedins_dept, fixmedins_prac
from yibao.storage.schema.filings import remote_reg, trt_dcla
from yibao.storage.schema.inventory import inv_record
from yibao.storage.schema.parties import (
    fixmedins,
    fixmedins_credential,
    psn,
    psn_idet,
    psn_insu,
    sign_in,
)
from yibao.storage.schema.platform import (
    agency_user,
    audit_anchor,
    audit_chain,
    audit_log,
    auth_session,
    change_log,
    file_store,
    gateway_nonce,
    login_throttle,
    msg_log,
    seq_counter,
)
from yibao.storage.schema.privacy import an_setl, an_state, console_alert, unmask_log
from yibao.storage.schema.review import (
    KB_TABLES,
    bundles,
    consumable_links,
    drug_limits,
    frequency_limits,
    item_pairs,
    price_limits,
    risk_run,
    rule_hit,
    windows,
)
from yibao.storage.schema.selfpay import selfpay_diag, selfpay_fee, selfpay_mdtrt

__all__ = [
    "CODE",
    "ID",
    "KB_TABLES",
    "NAMING_CONVENTION",
    "agency_user",
    "an_setl",
    "an_state",
    "audit_anchor",
    "audit_chain",
    "audit_log",
    "auth_session",
    "bundles",
    "catalog_dise",
    "catalog_item",
    "catalog_mapping",
    "catalog_mapping_event",
    "catalog_version",
    "change_log",
    "clr_appy",
    "clr_deduction",
    "clr_event",
    "clr_item",
    "clr_order",
    "console_alert",
    "consumable_links",
    "diag",
    "drug_limits",
    "fee_detail",
    "file_store",
    "fixmedins",
    "fixmedins_credential",
    "fixmedins_dept",
    "fixmedins_prac",
    "frequency_limits",
    "gateway_nonce",
    "inv_record",
    "item_pairs",
    "login_throttle",
    "mdtrt",
    "metadata",
    "msg_log",
    "price_limits",
    "psn",
    "psn_accum",
    "psn_idet",
    "psn_insu",
    "remote_reg",
    "review_case",
    "review_case_file",
    "review_case_hit",
    "review_case_step",
    "risk_run",
    "rule_hit",
    "selfpay_diag",
    "selfpay_fee",
    "selfpay_mdtrt",
    "seq_counter",
    "setl",
    "setl_fund",
    "sign_in",
    "trt_dcla",
    "unmask_log",
    "windows",
]
