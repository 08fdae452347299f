"""Gateway credentials of an institution: a public `paasid` (header `x-tif-paasid`) and a
secret, in one of two auth modes (docs/interface.md §2):

- `signature` (the default for new credentials): the provincial gateways' scheme. The client
  keeps a `paasToken` and signs each request (`x-tif-timestamp`, `x-tif-nonce`,
  `x-tif-signature`, `interface.signature`); the token is never sent. The server needs it to
  verify, so it is stored sealed (AES-GCM, `enrolment.token_seal`) under the data directory's
  key.
- `static`: the secret itself is sent as header `x-yibao-key`, for clients that cannot sign;
  only its sha256 is stored.

Either secret is returned once, by `issue_credential`, and cannot be shown again (revoke and
issue anew). The SQL lives in `enrolment.repo.credentials`; here are the rules: who may hold a
credential, what revoking means, and which credential is good.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from sqlalchemy import Connection

from yibao.enrolment import audit, token_seal
from yibao.enrolment.repo import credentials as repo
from yibao.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
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


AuthMode = Literal["signature", "static"]
SIGNATURE: Final = "signature"
STATIC: Final = "static"
AUTH_MODES: tuple[AuthMode, ...] = (SIGNATURE, STATIC)


@dataclass(frozen=True, slots=True)
class GatewayCredential:
    """A usable credential as the gateway checks it: its institution, its mode, and what a
    request is checked against (static: the secret's sha256; signature: the token)."""

    paasid: str
    institution: Institution
    auth_mode: AuthMode
    secret_sha256: str | None
    paas_token: str | None


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def auth_mode(value: str | None) -> AuthMode:
    """The auth mode named by `value` (None: the default, signature)."""
    if value is None or value == SIGNATURE:
        return SIGNATURE
    if value == STATIC:
        return STATIC
    raise InvalidInput(
        f"auth_mode: 认证方式应为 signature 或 static '{value}' (expected signature or static)"
    )


def issue_credential(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    fixmedins_code: str,
    auth_mode: AuthMode = SIGNATURE,
    data_dir: Path | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A new credential: `{paasid, auth_mode, fixmedins_code, created_at}` with its secret —
    `paas_token` (signature mode; sealed under `data_dir`'s key) or `secret` (static) — the
    only time the secret is shown."""
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
    if auth_mode == SIGNATURE:
        if data_dir is None:
            raise ValueError("a signature-mode credential needs the data directory's token key")
        repo.insert_credential(
            conn,
            paasid=paasid,
            fixmedins_code=fixmedins_code,
            auth_mode=SIGNATURE,
            token_sealed=token_seal.seal(data_dir, paasid, secret),
            created_at=moment,
        )
    else:
        repo.insert_credential(
            conn,
            paasid=paasid,
            fixmedins_code=fixmedins_code,
            auth_mode=STATIC,
            secret_sha256=secret_sha256(secret),
            created_at=moment,
        )
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="credential.issue",
        target=fixmedins_code,
        detail={"paasid": paasid, "auth_mode": auth_mode},
        at=moment,
    )
    shown = {"paas_token": secret} if auth_mode == SIGNATURE else {"secret": secret}
    return {
        "paasid": paasid,
        "auth_mode": auth_mode,
        **shown,
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
    # Compare even when the paasid is unknown (or signs), so timing does not tell which
    # paasids exist.
    expected = (row.secret_sha256 if row is not None else None) or "0" * 64
    if not hmac.compare_digest(digest, expected) or row is None or row.vali_flag != "1":
        raise Unauthorized("机构凭证无效或已吊销 (credential unknown, wrong or revoked)")
    if row.inst_vali_flag != "1":
        raise Forbidden(f"机构已停用 '{row.fixmedins_code}' (institution is deactivated)")
    return str(row.fixmedins_code)


def gateway_credential(
    conn: Connection, paasid: str, *, data_dir: Path
) -> GatewayCredential | None:
    """The credential `paasid` with its institution when it may be used: None when it is
    unknown, revoked (its flag or `revoked_at`), its institution is deactivated, or its sealed
    token does not open under `data_dir`'s key (logged by the caller as a bad credential)."""
    row = repo.credential_with_institution(conn, paasid)
    if row is None:
        return None
    if row["cred_flag"] != "1" or row["revoked_at"] is not None or row["vali_flag"] != "1":
        return None
    institution = Institution(
        fixmedins_code=row["fixmedins_code"],
        fixmedins_name=row["fixmedins_name"],
        kind=row["kind"],
        hosp_lv=row["hosp_lv"],
        admdvs=row["admdvs"],
        parent_code=row["parent_code"],
    )
    if row["auth_mode"] == SIGNATURE:
        sealed = row["token_sealed"]
        token = token_seal.unseal(data_dir, paasid, str(sealed)) if sealed else None
        if token is None:
            return None
        return GatewayCredential(paasid, institution, SIGNATURE, None, token)
    digest = row["secret_sha256"]
    if not digest:
        return None
    return GatewayCredential(paasid, institution, STATIC, str(digest), None)


def static_secret_matches(credential: GatewayCredential, secret: str) -> bool:
    """Whether `secret` is this static credential's secret (constant-time compare)."""
    expected = credential.secret_sha256 or "0" * 64
    same = hmac.compare_digest(expected, secret_sha256(secret))
    return same and credential.auth_mode == STATIC
