"""Institutions (定点医药机构) with their credentials and sign-ins; insured persons (参保人) with their insurance and identities."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)

from yibao.storage.schema.base import CODE, ID, audit_cols, metadata
from yibao.storage.types import Money

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
    *audit_cols(),
)
Index(None, fixmedins.c.parent_code)
Index(None, fixmedins.c.admdvs)

fixmedins_credential = Table(
    "fixmedins_credential",
    metadata,
    #: the public half, sent as header x-tif-paasid
    Column("paasid", String(64), primary_key=True),
    Column("fixmedins_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=False),
    #: signature (x-tif-timestamp/nonce/signature, the provincial gateways' scheme) | static
    #: (header x-yibao-key); rows written without a mode are static, the older kind
    Column("auth_mode", String(16), nullable=False, default="static"),
    #: static: sha256 hex of the secret sent as header x-yibao-key (the secret is never stored)
    Column("secret_sha256", String(64), nullable=True),
    #: signature: the paasToken sealed with AES-GCM under the data directory's key
    #: (`enrolment.token_seal`); the server needs it in clear to verify a signature
    Column("token_sealed", String(200), nullable=True),
    Column("vali_flag", String(1), nullable=False, default="1"),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
    #: set when the credential is rotated: it stays valid beside its successor until then
    #: (YIBAO_CREDENTIAL_OVERLAP_S), and is refused after
    Column("expires_at", DateTime, nullable=True),
    #: the paasid of the credential that replaced it (rotation)
    Column("rotated_to", String(64), nullable=True),
    #: how many calls were refused because the credential was revoked or expired, and when last
    Column("refused_count", BigInteger, nullable=False, default=0),
    Column("last_refused_at", DateTime, nullable=True),
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
    #: the recorded date of death (死亡日期); NULL while alive
    Column("death_date", Date, nullable=True),
    *audit_cols(),
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
    *audit_cols(),
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
