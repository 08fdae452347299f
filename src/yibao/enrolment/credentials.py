"""Gateway credentials of an institution: a public `paasid` (header `x-tif-paasid`) and a
random secret (header `x-yibao-key`). Only the secret's sha256 is stored; the secret is
returned once, by `issue_credential`, and cannot be shown again (revoke and issue anew).

The SQL lives in `enrolment.repo.credentials`; here are the rules: who may hold a credential,
what revoking means, and when a presented secret is good.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment import audit
from yibao.enrolment.repo import credentials as repo
from yibao.errors import Conflict, Forbidden, NotFound, Unauthorized
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator


@dataclass(frozen=True, slots=True)
class Institution:
    """The institution a verified credential acts for (from `fixmedins`)."""

    fixmedins_code: str
    fixmedins_name: str
    kind: str
    hosp_lv: str
    admdvs: str
    parent_code: str | None


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_credential(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    fixmedins_code: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A new credential: `{paasid, secret, fixmedins_code, created_at}` (the secret only here)."""
    flag = repo.institution_flag(conn, fixmedins_code)
    if flag is None:
        raise NotFound(f"fixmedins_code: 机构不存在 '{fixmedins_code}' (no such institution)")
    if flag != "1":
        raise Conflict(
            f"fixmedins_code: 机构已停用 '{fixmedins_code}' (institution is deactivated)"
        )
    moment = now or local_naive_now()
    paasid = f"{fixmedins_code}-{secrets.token_hex(6)}"
    secret = secrets.token_urlsafe(32)
    repo.insert_credential(
        conn,
        paasid=paasid,
        fixmedins_code=fixmedins_code,
        secret_sha256=secret_sha256(secret),
        created_at=moment,
    )
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="credential.issue",
        target=fixmedins_code,
        detail={"paasid": paasid},
        at=moment,
    )
    return {
        "paasid": paasid,
        "secret": secret,
        "fixmedins_code": fixmedins_code,
        "created_at": moment,
    }


def revoke_credential(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    fixmedins_code: str,
    paasid: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    row = repo.public_credential(conn, paasid)
    if row is None or row["fixmedins_code"] != fixmedins_code:
        raise NotFound(f"paasid: 凭证不存在 '{paasid}' (no such credential of {fixmedins_code})")
    if row["vali_flag"] != "1":
        raise Conflict(f"paasid: 凭证已吊销 '{paasid}' (already revoked)")
    moment = now or local_naive_now()
    repo.mark_revoked(conn, paasid, moment)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="credential.revoke",
        target=fixmedins_code,
        detail={"paasid": paasid},
        at=moment,
    )
    return {**dict(row), "vali_flag": "0", "revoked_at": moment}


def list_credentials(conn: Connection, *, fixmedins_code: str) -> list[dict[str, Any]]:
    return repo.list_public(conn, fixmedins_code=fixmedins_code)


def verify_credential(conn: Connection, *, paasid: str | None, key: str | None) -> str:
    """The fixmedins_code a gateway call acts for, from headers x-tif-paasid and x-yibao-key.

    Unauthorized when either is missing or wrong, or the credential is revoked; Forbidden when
    the institution is deactivated.
    """
    if not paasid or not key:
        raise Unauthorized(
            "缺少机构凭证 (missing credential: send headers x-tif-paasid and x-yibao-key)"
        )
    row = repo.credential_status(conn, paasid)
    digest = secret_sha256(key)
    # Compare even when the paasid is unknown, so timing does not tell which paasids exist.
    expected = row.secret_sha256 if row is not None else "0" * 64
    if not hmac.compare_digest(digest, expected) or row is None or row.vali_flag != "1":
        raise Unauthorized("机构凭证无效或已吊销 (credential unknown, wrong or revoked)")
    if row.inst_vali_flag != "1":
        raise Forbidden(f"机构已停用 '{row.fixmedins_code}' (institution is deactivated)")
    return str(row.fixmedins_code)


def verified_institution(conn: Connection, paasid: str, secret: str) -> Institution | None:
    """The institution a gateway call's credential acts for, or None when the credential is
    unknown, wrong, revoked (its flag or `revoked_at`) or its institution is deactivated.

    The digest is compared in constant time, and the same work is done whether or not the
    paasid exists, so timing does not tell which paasids exist.
    """
    row = repo.credential_with_institution(conn, paasid)
    digest = secret_sha256(secret)
    if row is None:
        hmac.compare_digest(digest, digest)
        return None
    if not hmac.compare_digest(str(row["secret_sha256"]), digest):
        return None
    if row["cred_flag"] != "1" or row["revoked_at"] is not None or row["vali_flag"] != "1":
        return None
    return Institution(
        fixmedins_code=row["fixmedins_code"],
        fixmedins_name=row["fixmedins_name"],
        kind=row["kind"],
        hosp_lv=row["hosp_lv"],
        admdvs=row["admdvs"],
        parent_code=row["parent_code"],
    )
