"""Gateway credentials of an institution: a public `paasid` (header `x-tif-paasid`) and a
secret, in one of two auth modes (docs/interface.md §2):

- `signature` (the default for new credentials): the provincial gateways' scheme. The client
  keeps a `paasToken` and signs each request (`x-tif-timestamp`, `x-tif-nonce`,
  `x-tif-signature`, `interface.signature`); the token is never sent. The server needs it to
  verify, so it is stored sealed (AES-GCM, `enrolment.token_seal`) under the data directory's
  key.
- `static`: the secret itself is sent as header `x-yibao-key`, for clients that cannot sign;
  only its sha256 is stored.

Either secret is returned once, by `issue_credential` or `rotate_credential`, and cannot be
shown again. Rotation issues a successor in the same mode and leaves the old credential valid
for an overlap (YIBAO_CREDENTIAL_OVERLAP_S), so that a client switches without a refused call;
revocation ends a credential at once. Every change that can end a credential bumps the
credential generation (`repo.bump_generation`), which every gateway process checks per call, and
every use of a revoked or expired credential is refused and counted (`refused_count`). The SQL lives in `enrolment.repo.credentials`; here are the rules: who may hold a
credential, what revoking means, and which credential is good.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
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
    #: revoked: every use is refused (and counted)
    revoked: bool = False
    #: rotated: refused (and counted) from this moment (platform-local, naive)
    expires_at: datetime | None = None

    def refusal(self, now: datetime) -> str | None:
        """Why a call with this (authentic) credential is refused now: None when it is good."""
        if self.revoked:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return None


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
    repo.bump_generation(conn)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="credential.revoke",
        target=fixmedins_code,
        detail={"paasid": paasid},
        at=moment,
    )
    return {**dict(row), "vali_flag": "0", "revoked_at": moment, "state": "revoked"}


def rotate_credential(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    fixmedins_code: str,
    paasid: str,
    overlap_s: int,
    data_dir: Path | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Issue a successor of `paasid` in the same mode (its secret shown once, as by
    `issue_credential`) and let the old one expire after `overlap_s` seconds; both are valid
    until then. The answer is the successor with `rotated_from` and `old_expires_at`."""
    row = repo.public_credential(conn, paasid)
    if row is None or row["fixmedins_code"] != fixmedins_code:
        raise NotFound(f"paasid: 凭证不存在 '{paasid}' (no such credential of {fixmedins_code})")
    moment = now or local_naive_now()
    if row["vali_flag"] != "1":
        raise Conflict(f"paasid: 凭证已吊销, 不能轮换 '{paasid}' (revoked: issue a new one)")
    if row["rotated_to"] is not None:
        raise Conflict(
            f"paasid: 凭证已轮换为 '{row['rotated_to']}' (already rotated: rotate the successor)"
        )
    if row["expires_at"] is not None and row["expires_at"] <= moment:
        raise Conflict(f"paasid: 凭证已过期 '{paasid}' (expired: issue a new one)")
    issued = issue_credential(
        conn,
        ids=ids,
        actor=actor,
        fixmedins_code=fixmedins_code,
        auth_mode=auth_mode(row["auth_mode"]),
        data_dir=data_dir,
        now=moment,
    )
    expires = (moment + timedelta(seconds=overlap_s)).replace(microsecond=0)
    repo.mark_rotated(conn, paasid, successor=issued["paasid"], expires_at=expires)
    repo.bump_generation(conn)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="credential.rotate",
        target=fixmedins_code,
        detail={"paasid": paasid, "successor": issued["paasid"], "old_expires_at": expires},
        at=moment,
    )
    return {**issued, "rotated_from": paasid, "old_expires_at": expires}


def state(row: dict[str, Any], now: datetime) -> str:
    """active | overlap (rotated, still valid) | expired | revoked."""
    if row["vali_flag"] != "1" or row.get("revoked_at") is not None:
        return "revoked"
    expires = row.get("expires_at")
    if expires is not None:
        return "expired" if now >= expires else "overlap"
    return "active"


def list_credentials(
    conn: Connection, *, fixmedins_code: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The institution's credentials, newest first, without secrets; each with its `state`
    and `refused_count` (uses refused because it was revoked or expired)."""
    moment = now or local_naive_now()
    rows = repo.list_public(conn, fixmedins_code=fixmedins_code)
    return [{**r, "state": state(r, moment)} for r in rows]


def count_refusals(conn: Connection, counts: dict[str, tuple[int, datetime]]) -> None:
    """Add refused uses per paasid: (how many, when last)."""
    for paasid, (count, at) in sorted(counts.items()):
        repo.add_refusals(conn, paasid, count, at)


def generation(conn: Connection) -> int:
    """The credential generation (changes with every revocation, rotation, and institution
    (de)activation)."""
    return repo.generation(conn)


def bump_generation(conn: Connection) -> None:
    repo.bump_generation(conn)


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
    expired = row is not None and row.expires_at is not None and local_naive_now() >= row.expires_at
    if not hmac.compare_digest(digest, expected) or row is None or row.vali_flag != "1" or expired:
        raise Unauthorized(
            "机构凭证无效、已吊销或已过期 (credential unknown, wrong, revoked or expired)"
        )
    if row.inst_vali_flag != "1":
        raise Forbidden(f"机构已停用 '{row.fixmedins_code}' (institution is deactivated)")
    return str(row.fixmedins_code)


def gateway_credential(
    conn: Connection, paasid: str, *, data_dir: Path
) -> GatewayCredential | None:
    """The credential `paasid` with its institution: None when it is unknown, its institution
    is deactivated, or its sealed token does not open under `data_dir`'s key (logged by the
    caller as a bad credential). A revoked or rotated credential comes back marked
    (`revoked`, `expires_at`): the caller checks the request against it first, then refuses
    and counts the use (`GatewayCredential.refusal`)."""
    row = repo.credential_with_institution(conn, paasid)
    if row is None or row["vali_flag"] != "1":
        return None
    revoked = row["cred_flag"] != "1" or row["revoked_at"] is not None
    expires_at = row["expires_at"]
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
        return GatewayCredential(paasid, institution, SIGNATURE, None, token, revoked, expires_at)
    digest = row["secret_sha256"]
    if not digest:
        return None
    return GatewayCredential(paasid, institution, STATIC, str(digest), None, revoked, expires_at)


def static_secret_matches(credential: GatewayCredential, secret: str) -> bool:
    """Whether `secret` is this static credential's secret (constant-time compare)."""
    expected = credential.secret_sha256 or "0" * 64
    same = hmac.compare_digest(expected, secret_sha256(secret))
    return same and credential.auth_mode == STATIC
