"""Security headers on every answer of the console and the pages (the national interface's
hot path bypasses this; it answers machines, not browsers).

- every answer: `X-Content-Type-Options: nosniff`;
- every `/api/` answer (they may hold personal data): `Cache-Control: no-store` unless the
  route set its own;
- every page (text/html): `Content-Security-Policy` (scripts and styles from yibao itself,
  no framing, forms only to yibao), `X-Frame-Options: DENY`, `Referrer-Policy: same-origin`
  and `Cache-Control: no-store` unless the route set its own.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def csp_with_script_hashes(hashes: list[str]) -> str:
    """The policy, also allowing inline scripts of these sha256 hashes (base64)."""
    allowed = " ".join(f"'sha256-{h}'" for h in hashes)
    return CSP.replace("script-src 'self'", f"script-src 'self' {allowed}")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith("/api/")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("x-content-type-options", "nosniff")
                if is_api:
                    headers.setdefault("cache-control", "no-store")
                if headers.get("content-type", "").startswith("text/html"):
                    for name, value in PAGE_HEADERS.items():
                        headers.setdefault(name, value)
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, wrapped)
