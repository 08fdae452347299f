"""Gateway credentials of an institution: a public `paasid` (header `x-tif-paasid`) and a
random secret (header `x-yibao-key`). Only the secret's sha256 is stored; the secret is
returned once, by `issue_credential`, and cannot be shown again (revoke and issue anew).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from yibao.enrolment import audit
from yibao.errors import Conflict, Forbidden, NotFound, Unauthorized
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator
from yibao.storage.tables import fixmedins, fixmedins_credential

_PUBLIC_COLUMNS = (
    fixmedins_credential.c.paasid,
    fixmedins_credential.c.fixmedins_code,
    fixmedins_credential.c.vali_flag,
    fixmedins_credential.c.created_at,
    fixmedins_credential.c.revoked_at,
)


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
    inst = conn.execute(
        select(fixmedins.c.vali_flag).where(fixmedins.c.fixmedins_code == fixmedins_code)
    ).first()
    if inst is None:
        raise NotFound(f"fixmedins_code: 机构不存在 '{fixmedins_code}' (no such institution)")
    if inst.vali_flag != "1":
        raise Conflict(
            f"fixmedins_code: 机构已停用 '{fixmedins_code}' (institution is deactivated)"
        )
    moment = now or local_naive_now()
    paasid = f"{fixmedins_code}-{secrets.token_hex(6)}"
    secret = secrets.token_urlsafe(32)
    conn.execute(
        insert(fixmedins_credential).values(
            paasid=paasid,
            fixmedins_code=fixmedins_code,
            secret_sha256=secret_sha256(secret),
            vali_flag="1",
            created_at=moment,
        )
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
    row = (
        conn.execute(select(*_PUBLIC_COLUMNS).where(fixmedins_credential.c.paasid == paasid))
        .mappings()
        .first()
    )
    if row is None or row["fixmedins_code"] != fixmedins_code:
        raise NotFound(f"paasid: 凭证不存在 '{paasid}' (no such credential of {fixmedins_code})")
    if row["vali_flag"] != "1":
        raise Conflict(f"paasid: 凭证已吊销 '{paasid}' (already revoked)")
    moment = now or local_naive_now()
    conn.execute(
        update(fixmedins_credential)
        .where(fixmedins_credential.c.paasid == paasid)
        .values(vali_flag="0", revoked_at=moment)
    )
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
    rows = conn.execute(
        select(*_PUBLIC_COLUMNS)
        .where(fixmedins_credential.c.fixmedins_code == fixmedins_code)
        .order_by(fixmedins_credential.c.created_at.desc(), fixmedins_credential.c.paasid)
    ).mappings()
    return [dict(r) for r in rows]


def verify_credential(conn: Connection, *, paasid: str | None, key: str | None) -> str:
    """The fixmedins_code a gateway call acts for, from headers x-tif-paasid and x-yibao-key.

    Unauthorized when either is missing or wrong, or the credential is revoked; Forbidden when
    the institution is deactivated.
    """
    if not paasid or not key:
        raise Unauthorized(
            "缺少机构凭证 (missing credential: send headers x-tif-paasid and x-yibao-key)"
        )
    row = conn.execute(
        select(
            fixmedins_credential.c.fixmedins_code,
            fixmedins_credential.c.secret_sha256,
            fixmedins_credential.c.vali_flag,
            fixmedins.c.vali_flag.label("inst_vali_flag"),
        )
        .join(fixmedins, fixmedins.c.fixmedins_code == fixmedins_credential.c.fixmedins_code)
        .where(fixmedins_credential.c.paasid == paasid)
    ).first()
    digest = secret_sha256(key)
    # Compare even when the paasid is unknown, so timing does not tell which paasids exist.
    expected = row.secret_sha256 if row is not None else "0" * 64
    if not hmac.compare_digest(digest, expected) or row is None or row.vali_flag != "1":
        raise Unauthorized("机构凭证无效或已吊销 (credential unknown, wrong or revoked)")
    if row.inst_vali_flag != "1":
        raise Forbidden(f"机构已停用 '{row.fixmedins_code}' (institution is deactivated)")
    return str(row.fixmedins_code)
