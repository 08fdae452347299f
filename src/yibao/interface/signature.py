"""The gateway signature of the provincial 医保 gateways, as HIS clients send it.

Headers (names case-insensitive; the transport lower-cases them):
`x-tif-paasid` (the credential's access id), `x-tif-timestamp` (Unix seconds),
`x-tif-nonce` (a random string), `x-tif-signature` =
`sha256hex(timestamp + paasToken + nonce + timestamp)` (lower-case hex of the UTF-8 bytes;
the paasToken is never sent), optionally `x-tif-serviceId`. A static-mode client sends
`x-yibao-key` instead (`enrolment.credentials`).

Checked here: the timestamp lies within ± the window (`signature_window_s`, 300 s by default)
of server time and the signature matches the credential's token. The nonce is checked against
the shared store afterwards (`interface.nonces`), because a retry of a message that already has
a stored answer gets that answer even with the same nonce. Each failure is an `Unauthorized`
naming the check, answered `infcode -1`. docs/interface.md §2.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from yibao.errors import Unauthorized

#: the longest nonce kept (the store's column); real clients send a UUID or shorter
MAX_NONCE = 64


@dataclass(frozen=True, slots=True)
class Signed:
    """The signature headers of one request (any of them may be missing)."""

    timestamp: str | None
    nonce: str | None
    signature: str | None
    service_id: str | None = None

    @property
    def present(self) -> bool:
        """Whether the request tries to sign (any signature header is there)."""
        return bool(self.timestamp or self.nonce or self.signature)


@dataclass(frozen=True, slots=True)
class RequestHeaders:
    """What the call pipeline takes from a request's headers."""

    paasid: str | None
    #: x-yibao-key (static mode)
    key: str | None
    signed: Signed
    content_type: str | None


@dataclass(frozen=True, slots=True)
class Verified:
    """A signature that matched: its nonce and until when (Unix seconds) it must be kept."""

    nonce: str
    expires_at: int


def read_headers(headers: Iterable[tuple[bytes, bytes]]) -> RequestHeaders:
    """The credential, signature and content-type headers of an ASGI request (names as the
    server gives them; lower-cased again here, so `x-tif-paasId` is found too)."""
    found: dict[bytes, str] = {}
    for name, value in headers:
        key = name.lower()
        if key.startswith(b"x-tif-") or key in (b"x-yibao-key", b"content-type"):
            found[key] = value.decode("latin-1").strip()
    return RequestHeaders(
        paasid=found.get(b"x-tif-paasid") or None,
        key=found.get(b"x-yibao-key") or None,
        signed=Signed(
            timestamp=found.get(b"x-tif-timestamp") or None,
            nonce=found.get(b"x-tif-nonce") or None,
            signature=found.get(b"x-tif-signature") or None,
            service_id=found.get(b"x-tif-serviceid") or None,
        ),
        content_type=found.get(b"content-type") or None,
    )


def sign(timestamp: str, paas_token: str, nonce: str) -> str:
    """`sha256hex(timestamp + paasToken + nonce + timestamp)`, what a client sends."""
    return hashlib.sha256((timestamp + paas_token + nonce + timestamp).encode()).hexdigest()


def _seconds(timestamp: str) -> int:
    """Unix seconds; a 13-digit value is taken as milliseconds (some clients send those)."""
    if not timestamp.isdigit() or len(timestamp) > 13:
        raise Unauthorized(
            f"x-tif-timestamp: 时间戳格式错误 '{timestamp[:20]}' (expected Unix seconds)"
        )
    value = int(timestamp)
    return value // 1000 if len(timestamp) == 13 else value


def verify(signed: Signed, paas_token: str, *, now: int, window: int) -> Verified:
    """Check the timestamp window and the signature (not yet the nonce: `interface.nonces`)."""
    if not (signed.timestamp and signed.nonce and signed.signature):
        missing = [
            name
            for name, value in (
                ("x-tif-timestamp", signed.timestamp),
                ("x-tif-nonce", signed.nonce),
                ("x-tif-signature", signed.signature),
            )
            if not value
        ]
        raise Unauthorized(
            f"缺少签名请求头 {', '.join(missing)} (signature headers missing: {', '.join(missing)})"
        )
    moment = _seconds(signed.timestamp)
    if moment < now - window:
        raise Unauthorized(
            f"x-tif-timestamp: 时间戳已过期, 早于服务器时间 {now - moment} 秒, 允许 ±{window} 秒 "
            f"(timestamp too old: {now - moment} s behind server time, window ±{window} s)"
        )
    if moment > now + window:
        raise Unauthorized(
            f"x-tif-timestamp: 时间戳超前, 晚于服务器时间 {moment - now} 秒, 允许 ±{window} 秒 "
            f"(timestamp in the future: {moment - now} s ahead of server time, "
            f"window ±{window} s)"
        )
    if len(signed.nonce) > MAX_NONCE:
        raise Unauthorized(
            f"x-tif-nonce: 随机串过长 ({len(signed.nonce)} > {MAX_NONCE}) (nonce too long)"
        )
    expected = sign(signed.timestamp, paas_token, signed.nonce)
    if not hmac.compare_digest(expected.encode(), signed.signature.lower().encode()):
        raise Unauthorized(
            "x-tif-signature: 签名错误 (signature mismatch: expected "
            "sha256hex(timestamp + paasToken + nonce + timestamp), lower-case hex)"
        )
    return Verified(nonce=signed.nonce, expires_at=moment + window)


def replay(nonce: str) -> Unauthorized:
    """The refusal of a nonce seen before within the window."""
    return Unauthorized(
        f"x-tif-nonce: 随机串已使用, 拒绝重放 '{nonce}' "
        "(nonce already used within the signature window: replay refused)"
    )
