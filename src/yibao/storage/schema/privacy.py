"""Personal data (issue 17): every unmasking with its stated purpose (the per-user rate limit
counts these rows, so it holds across server processes), the console's security alerts
(unusual unmasking volume, refused bursts) for the secadmin, and the pseudonymised analytic
facts TiDB's analytics read (`an_setl`, `an_state`)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table, Text

from yibao.storage.schema.base import CODE, ID, metadata
from yibao.storage.types import Money

unmask_log = Table(
    "unmask_log",
    metadata,
    Column("unmask_id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    Column("username", String(50), nullable=False),
    #: a code of `interface.console.unmasking.PURPOSES`
    Column("purpose", String(30), nullable=False),
    #: the free text after the code (a case number, a ticket); never personal data
    Column("purpose_note", String(200), nullable=True),
    #: how many persons the answer showed unmasked
    Column("records", Integer, nullable=False),
)
Index(None, unmask_log.c.username, unmask_log.c.at)

console_alert = Table(
    "console_alert",
    metadata,
    Column("alert_id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    #: unmask_volume | unmask_records | unmask_refused
    Column("kind", String(30), nullable=False),
    #: the user whose behaviour raised it
    Column("username", String(50), nullable=False),
    Column("message", String(500), nullable=False),
    #: JSON: counts and thresholds (no personal data)
    Column("detail", Text, nullable=True),
    Column("acked_at", DateTime, nullable=True),
    Column("acked_by", String(50), nullable=True),
)
Index(None, console_alert.c.at)
Index(None, console_alert.c.username, console_alert.c.kind, console_alert.c.at)

# ---------------------------------------------------------------------------------------------
# Pseudonymised analytic facts (TiDB): what the analytics read on TiDB and what alone gets a
# TiFlash replica, besides `fixmedins` — the person as `psn_ref`, never `psn_no`
# (`replica.pseudo_tables` fills them from the change log; docs/tidb.md)
# ---------------------------------------------------------------------------------------------

#: the settlement amounts an analytic settlement row carries (as `setl`, integer fen at rest)
AN_SETL_AMOUNTS: tuple[str, ...] = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_pay",
    "hifdm_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "hosp_part_amt",
    "acct_mulaid_pay",
    "drug_sumamt",
    "mcs_sumamt",
    "exam_sumamt",
)

an_setl = Table(
    "an_setl",
    metadata,
    Column("setl_id", String(ID), primary_key=True),
    #: HMAC-SHA256(pseudonym key, psn_no), 32 hex digits (`replica.pseudonym`)
    Column("psn_ref", String(32), nullable=True),
    Column("fixmedins_code", String(ID), nullable=False),
    Column("insutype", String(CODE), nullable=True),
    Column("psn_type", String(CODE), nullable=True),
    Column("med_type", String(CODE), nullable=True),
    Column("hosp_lv", String(3), nullable=True),
    Column("maindiag_code", String(20), nullable=True),
    Column("setl_time", DateTime, nullable=False),
    Column("begndate", DateTime, nullable=True),
    Column("enddate", DateTime, nullable=True),
    Column("fee_line_cnt", Integer, nullable=False, default=0),
    Column("refd_setl_flag", String(1), nullable=False, default="0"),
    Column("vali_flag", String(1), nullable=False, default="1"),
    *(Column(name, Money(), nullable=False, default=0) for name in AN_SETL_AMOUNTS),
    #: the change-log seq of the image
    Column("seq", BigInteger, nullable=False),
)
Index(None, an_setl.c.fixmedins_code, an_setl.c.setl_time)
Index(None, an_setl.c.setl_time)

an_state = Table(
    "an_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    #: the change log is applied up to here
    Column("applied_seq", BigInteger, nullable=False),
    #: the pseudonym key the rows were made with (`Pseudonyms.key_id`; another → rebuilt)
    Column("key_id", String(16), nullable=False),
)
