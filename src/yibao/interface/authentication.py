"""Who is calling: the institution behind a national-interface request's credential headers
(`interface.credentials`: cached, valid under the credential generation), its signature
(`interface.signature`; its nonce is claimed with the call, `interface.call_nonces`) or static
key, and its sign-in (9001, trusted for `SIGN_IN_TTL` once checked).

The credential generation makes a revocation effective at once in every process: a cached
credential is used at once and its generation checked by the first statement of the call's own
transaction (the pipeline's jobs, `CredentialCache.check`; on the SQLite writer's connection a
look-up in its row cache). A credential not cached, or a check that failed, reads the
generation first: serving SQLite on the event loop's own connection, otherwise in a read that
the calls arriving while the previous one was on its way share (`Authenticator._generation`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection

from yibao.errors import ConfigError, YibaoError
from yibao.interface import sign_in
from yibao.interface import signature as sig
from yibao.interface.context import Institution
from yibao.interface.credentials import (
    CredentialCache,
    GatewayCredential,
    static_secret_matches,
)
from yibao.kit import clock
from yibao.kit.workers import Workers
from yibao.obs import metrics
from yibao.runtime import Platform

log = logging.getLogger(__name__)

INTERNAL = "系统内部错误 (internal error; the server log has the details)"
#: how long a checked sign-in is trusted without asking the row store again (seconds)
SIGN_IN_TTL = 30.0


def _now() -> datetime:
    return datetime.now(clock.zone()).replace(tzinfo=None)


class Refusal(Exception):
    """Refused before dispatch (envelope, credential, sign-in): answered -1 with the message."""


class Authenticator:
    """The credentials and sign-ins of one gateway process's calls."""

    def __init__(
        self,
        platform: Platform,
        reads: Workers,
        loop_reader: Callable[[], Connection | None],
    ) -> None:
        """`reads`: the threads for the store's reads; `loop_reader`: the event loop's own
        connection for a one-statement look-up (serving SQLite), else None."""
        self.platform = platform
        self.settings = platform.settings
        self.reads = reads
        self._loop_reader = loop_reader
        self.credentials = CredentialCache(platform.db, data_dir=platform.settings.data_dir)
        #: "fixmedins_code/sign_no" → monotonic time until which the sign-in is trusted
        self._signed: dict[str, float] = {}
        #: the credential generation read that callers who arrived since the last one began
        #: wait for (`_generation`)
        self._generation_next: asyncio.Future[int] | None = None
        self._generation_task: asyncio.Task[None] | None = None

    def _generation_read(self) -> int:
        with self.platform.db.call_read() as conn:
            return self.credentials.generation(conn)

    async def _generation(self) -> int:
        """The credential generation as a read begun after this call arrived: calls that
        arrive while a read is on its way share the next one, so a revocation committed
        before a call arrives is seen by it, at one read per round trip rather than per call."""
        loop = asyncio.get_running_loop()
        waiting = self._generation_next
        if waiting is None:
            waiting = self._generation_next = loop.create_future()
            if self._generation_task is None or self._generation_task.done():
                self._generation_task = loop.create_task(self._read_generations())
        return await asyncio.shield(waiting)

    async def _read_generations(self) -> None:
        while self._generation_next is not None:
            due, self._generation_next = self._generation_next, None
            try:
                value = await self.reads.run(self._generation_read)
            except asyncio.CancelledError:
                due.cancel()  # shutting down: the waiting callers are cancelled with it
                raise
            except BaseException as exc:  # every caller waiting for this read gets its error
                if not due.done():
                    due.set_exception(exc)
            else:
                if not due.done():
                    due.set_result(value)

    async def _credential(
        self, paasid: str, *, careful: bool
    ) -> tuple[GatewayCredential | None, int | None]:
        """The credential behind `paasid` and, when it was taken from the cache unchecked, the
        generation the call's own transaction must still find (`CredentialCache.check`)."""
        # The credential generation, checked per call, makes a revocation effective at once
        # in every process (`interface.credentials`): a cached credential is used at once and
        # its generation checked by the call's own transaction, on the thread that runs it (no
        # hand-off and, on the SQLite writer, no statement of its own). `careful` (nothing
        # cached, or the check failed): read first — serving SQLite one primary-key read on
        # the event loop's own connection, else a pooled read that the calls arriving while
        # the previous one ran share (`_generation`).
        if not careful:
            known = self.credentials.current(paasid)
            if known is not None:
                return known
        reader = self._loop_reader()
        if reader is not None:
            generation = self.credentials.generation(reader)
        else:
            generation = await self._generation()
        credential = self.credentials.cached(paasid, generation)
        if credential is None:
            try:
                credential = await self.reads.run(self.credentials.load, paasid)
            except ConfigError:
                log.exception("nhsa call: the gateway token key cannot be read")
                raise Refusal(INTERNAL) from None
        return credential, None

    async def institution(
        self,
        paasid: str | None,
        secret: str | None,
        signed: sig.Signed,
        code: str,
        *,
        careful: bool = False,
    ) -> tuple[Institution, sig.Verified | None, int | None]:
        """The institution the request's credential acts for, for a signed request its
        verified signature (whose nonce is claimed with the call), and the credential
        generation the call's transaction must check (None: read already)."""
        try:
            return await self._authenticate(paasid, secret, signed, code, careful)
        except (Refusal, YibaoError):
            metrics.signin_failed("gateway")
            raise

    async def _authenticate(
        self, paasid: str | None, secret: str | None, signed: sig.Signed, code: str, careful: bool
    ) -> tuple[Institution, sig.Verified | None, int | None]:
        if not paasid or not (secret or signed.present):
            raise Refusal(
                "缺少机构凭证: 请求头 x-tif-paasid 与签名 (x-tif-timestamp, x-tif-nonce, "
                "x-tif-signature) 或 x-yibao-key 必填 (credential headers required: x-tif-paasid "
                "with the signature headers, or x-yibao-key)"
            )
        credential, expected = await self._credential(paasid, careful=careful)
        verified = None
        if credential is None:
            raise Refusal("机构凭证无效或已吊销 (credential invalid or revoked)")
        if signed.present:
            if credential.auth_mode != "signature" or credential.paas_token is None:
                raise Refusal(
                    "机构凭证为 static 模式, 请使用请求头 x-yibao-key "
                    "(this credential is static-mode: send x-yibao-key, not a signature)"
                )
            verified = sig.verify(
                signed,
                credential.paas_token,
                now=int(time.time()),
                window=self.settings.signature_window_s,
            )
        elif secret is None or not static_secret_matches(credential, secret):
            if credential.auth_mode == "signature":
                raise Refusal(
                    "机构凭证为 signature 模式, 请求须签名 (x-tif-timestamp, x-tif-nonce, "
                    "x-tif-signature) (this credential is signature-mode: sign the request)"
                )
            raise Refusal("机构凭证无效或已吊销 (credential invalid or revoked)")
        refusal = credential.refusal(_now())
        if refusal is not None:
            # Authentic but ended: refused, and counted on the credential's row.
            self.credentials.refused(paasid)
            if refusal == "revoked":
                raise Refusal("机构凭证已吊销 (credential revoked)")
            raise Refusal(
                "机构凭证已过期 (轮换后的重叠期已过), 请使用新凭证 (credential expired after "
                "rotation: use its successor)"
            )
        institution = credential.institution
        if institution.fixmedins_code != code:
            raise Refusal(
                f"fixmedins_code: 定点医药机构编号 {code} 与凭证所属机构不一致 "
                "(the credential belongs to another institution)"
            )
        return institution, verified, expected

    async def check_sign_in(self, code: str, sign_no: str | None) -> None:
        if not sign_no:
            raise Refusal("sign_no: 请先签到 (9001) 并在报文中填写签到流水号 (sign in first)")
        key = f"{code}/{sign_no}"
        if self._signed.get(key, 0.0) > time.monotonic():
            return

        def check() -> bool:
            with self.platform.db.call_read() as conn:
                return sign_in.is_signed_in(conn, fixmedins_code=code, sign_no=sign_no)

        ok = await self.reads.run(check)
        if not ok:
            metrics.signin_failed("sign_no")
            raise Refusal(f"sign_no: 签到流水号无效或已签退 '{sign_no}' (sign in again with 9001)")
        self._signed[key] = time.monotonic() + SIGN_IN_TTL
