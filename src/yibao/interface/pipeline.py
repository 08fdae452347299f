"""One national-interface call, end to end, without HTTP: request body and credential headers
in, answer (payload bytes and content headers) out.

Per call: parse the body once (`jsonx.loads`, fractions as Decimal; a GBK/GB18030 body is
decoded first and answered in its charset, `interface.charset`), check the envelope, the
institution's credential, its signature or static key and its sign-in
(`interface.authentication`), look the handler up
by `infno` and run it as its registration says (`interface.registry.Transaction`), and answer
a response envelope (`interface.envelope`) — also for a refusal, a bad credential, unreadable
JSON or a bug (`infcode: -1`, `err_msg`); the transport answers it with HTTP 200.

Writing transactions run in the storage writer (group commit on SQLite: one savepoint per call
inside a shared durable transaction), idempotent by msgid (`interface.idempotency`). Read-only
transactions run on a read connection in a small thread pool, except the short ones marked
`short_read`: on SQLite while serving they run in the writer's thread at the start of its next
transaction, so that one thread runs every settlement's statements (docs/architecture.md, "One
thread owns SQLite's statements"); on the MySQL protocol on the event loop itself — one to three
autocommit round trips and no commit to wait for cost less than the two thread hand-offs around
them — unless a call found the store unavailable and none has been answered since (then the
read pool, so that a frozen server stalls the loop once, not once per read). Reads are not
logged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from yibao.errors import YibaoError
from yibao.interface import charset
from yibao.interface import signature as sig
from yibao.interface.authentication import INTERNAL, Authenticator, Refusal
from yibao.interface.call_nonces import CallNonces, WriteClaim
from yibao.interface.context import CallContext
from yibao.interface.credentials import CredentialsChanged
from yibao.interface.envelope import RefIds, envelope
from yibao.interface.idempotency import SeenBefore, input_digest, input_psn, run_once
from yibao.interface.nonces import Claim
from yibao.interface.registry import Transaction, load_handlers, lookup
from yibao.kit import clock, jsonx
from yibao.kit.workers import Workers
from yibao.obs import logs, metrics
from yibao.policy.model import PolicyRefusal
from yibao.review.service import WARN_KEY, ReviewRefused
from yibao.review.service import store as store_hits
from yibao.runtime import Platform
from yibao.storage import faults

log = logging.getLogger(__name__)

#: the largest request body read (bytes); a larger one is refused unread
MAX_BODY = 8 * 1024 * 1024
INFNO = re.compile(r"^\d{4}[A-Z]?$")
ADMDVS = re.compile(r"^\d{6}$")
MSGID_FORM = re.compile(r"^[HP]\d{11}\d{14}\d{4}$")
JSON_HEADERS = [(b"content-type", b"application/json;charset=utf-8")]

Headers = list[tuple[bytes, bytes]]
NO_SIGNATURE = sig.Signed(None, None, None)


class Answer(NamedTuple):
    """What the transport sends back: the payload and its content headers (status 200)."""

    payload: bytes
    headers: Headers


def _text(env: dict[str, Any], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Refusal(f"{name}: 应为字符串 (must be a string)")
    text = str(value).strip()
    return text or None


def _warnings(output: Any, warn: str | None) -> str | None:
    """The envelope's warn_msg: the gateway's own warning and the review's (taken out of the
    handler's answer, where the settlement service put them)."""
    if isinstance(output, dict):
        found = output.pop(WARN_KEY, None)
        if found:
            return f"{warn}\n{found}" if warn else str(found)
    return warn


def _now() -> datetime:
    return datetime.now(clock.zone()).replace(tzinfo=None)


class CallPipeline:
    """Runs national-interface calls against one platform (see the module doc)."""

    def __init__(self, platform: Platform) -> None:
        load_handlers()
        self.platform = platform
        self.settings = platform.settings
        #: the calls' signature nonces: memory, store, the reads' claim jobs
        self.nonces = CallNonces(platform.db.writer)
        self.refids = RefIds(platform.settings.node_id)
        self.reads = Workers(platform.settings.read_threads, "yibao-nhsa-read")
        self.auth = Authenticator(platform, self.reads, self._loop_reader)
        self.credentials = self.auth.credentials
        #: MySQL protocol: short reads run on the event loop while the store answers (module
        #: doc); cleared by a read that found it unavailable, set by the next answered call
        self._short_reads_here = not platform.db.is_sqlite
        self._store_answers = True
        #: SQLite, while serving (`start` … `stop`): the event loop's connection for its
        #: one-statement look-ups (the credential generation, a read's nonce); its presence also
        #: sends the short reads (`Transaction.short_read`) to the writer's thread
        self._reader: Connection | None = None

    def start(self) -> None:
        """Open the event loop's reader connection (call on the event loop thread)."""
        if self.platform.db.is_sqlite and self._reader is None:
            self._reader = self.platform.db.read_engine.connect()

    def stop(self) -> None:
        """Close the event loop's reader connection (reads go to the pool again)."""
        self.nonces.read_claims.submit_deferred()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def close(self) -> None:
        self.stop()
        self.reads.close(cancel_queued=True, wait=False)

    def run(
        self,
        body: bytes,
        paasid: str | None,
        secret: str | None,
        *,
        signed: sig.Signed = NO_SIGNATURE,
        content_type: str | None = None,
    ) -> Answer:
        """One call from synchronous code (a command, a script): `handle` on a new event loop."""
        return asyncio.run(
            self.handle(body, paasid, secret, signed=signed, content_type=content_type)
        )

    # -- one call ------------------------------------------------------------------------

    async def handle(
        self,
        body: bytes,
        paasid: str | None,
        secret: str | None,
        *,
        too_big: bool = False,
        signed: sig.Signed = NO_SIGNATURE,
        content_type: str | None = None,
    ) -> Answer:
        """The answer to one request body sent with these credential headers: `secret` is
        x-yibao-key (static mode), `signed` the signature headers (signature mode);
        `content_type` names the body's charset; `too_big`: the transport stopped reading the
        body at `MAX_BODY`."""
        gb = charset.request_charset(content_type)
        answer = await self._handle(body, paasid, secret, signed, gb, too_big)
        if gb is None or self.settings.answer_charset == "utf-8" or answer.headers != JSON_HEADERS:
            return answer
        payload, declared = charset.encode(answer.payload, gb)
        return Answer(payload, [(b"content-type", declared)])

    async def _handle(
        self,
        body: bytes,
        paasid: str | None,
        secret: str | None,
        signed: sig.Signed,
        gb: str | None,
        too_big: bool,
    ) -> Answer:
        received = _now()
        started = time.perf_counter()
        admdvs = "000000"
        served: str | None = None  # the infno label: a transaction yibao serves, else other
        infcode = -1
        try:
            if too_big:
                raise Refusal(f"报文过大 (request larger than {MAX_BODY} bytes)")
            try:
                env = jsonx.loads(charset.decode(body) if gb else body)
            except UnicodeDecodeError:
                raise Refusal(
                    f"报文不是合法的 {gb or 'UTF-8'} 编码 (request body is not valid {gb or 'UTF-8'})"
                ) from None
            except ValueError as exc:
                raise Refusal(
                    f"报文不是合法的JSON (request body is not valid JSON): {exc}"
                ) from None
            if not isinstance(env, dict):
                raise Refusal("报文应为JSON对象 (request body must be a JSON object)")
            area = _text(env, "mdtrtarea_admvs")
            if area and ADMDVS.match(area):
                admdvs = area
            infno = env.get("infno")
            known = lookup(infno) if isinstance(infno, str) else None
            if known is not None:
                served = known.infno  # the registry's number: a bounded label set
            answer = await self._dispatch(env, paasid, secret, signed, received, admdvs)
            infcode = 0
            self._store_answers = True
            faults.recovered("nhsa call")
            return answer
        except Refusal as exc:
            return Answer(self._fail(str(exc), received, admdvs), JSON_HEADERS)
        except (YibaoError, PolicyRefusal) as exc:
            message = getattr(exc, "message", None) or str(exc)
            return Answer(self._fail(message, received, admdvs), JSON_HEADERS)
        except Exception as exc:
            # A row store that is down, frozen or full fails every call alike: answer
            # "unavailable, retry" and log it once per interval, not a traceback per call.
            down = faults.unavailable(exc)
            if down is not None:
                faults.report("nhsa call", exc)
                metrics.store_unavailable("call")
                return Answer(self._fail(down.message, received, admdvs), JSON_HEADERS)
            log.exception("nhsa call: unexpected error")
            return Answer(self._fail(INTERNAL, received, admdvs), JSON_HEADERS)
        finally:
            metrics.call(served, infcode, time.perf_counter() - started)

    def _fail(self, message: str, received: datetime, admdvs: str) -> bytes:
        return envelope(
            infcode=-1,
            inf_refmsgid=self.refids.next(admdvs, received),
            received=received,
            responded=_now(),
            # a message may quote what the client sent: a lone surrogate is written as its escape
            err_msg=message[:2000].encode("utf-8", "backslashreplace").decode(),
        )

    async def _dispatch(
        self,
        env: dict[str, Any],
        paasid: str | None,
        secret: str | None,
        signed: sig.Signed,
        received: datetime,
        admdvs: str,
    ) -> Answer:
        infno = _text(env, "infno")
        if not infno or not INFNO.match(infno):
            raise Refusal(f"infno: 交易编号格式错误 '{infno or ''}' (expected 4 digits, e.g. 2207)")
        msgid = _text(env, "msgid")
        if not msgid:
            raise Refusal("msgid: 发送方报文ID必填 (required)")
        if len(msgid) > 30:
            raise Refusal(f"msgid: 长度超过 30 (too long: {len(msgid)} characters)")
        code = _text(env, "fixmedins_code")
        if not code:
            raise Refusal("fixmedins_code: 定点医药机构编号必填 (required)")
        institution, verified, expected = await self.auth.institution(paasid, secret, signed, code)
        if admdvs == "000000" and ADMDVS.match(institution.admdvs):
            admdvs = institution.admdvs
        txn = lookup(infno)
        if txn is None:
            raise Refusal(f"infno: 不支持的交易 {infno} (transaction not supported)")
        raw = env.get("input")
        if isinstance(raw, str):
            try:
                data = jsonx.loads(raw) if raw.strip() else {}
            except ValueError as exc:
                raise Refusal(
                    f"input: 不是合法的JSON字符串 (input string is not valid JSON): {exc}"
                ) from None
        else:
            data = raw if raw is not None else {}
        if not isinstance(data, dict):
            raise Refusal("input: 应为对象 (input must be a JSON object)")
        sign_no = _text(env, "sign_no")
        if self.settings.require_sign_in and infno != "9001":
            await self.auth.check_sign_in(code, sign_no)
        insuplc = _text(env, "insuplc_admdvs")
        if insuplc and not ADMDVS.match(insuplc):
            raise Refusal(f"insuplc_admdvs: 应为6位医保区划 '{insuplc}' (6-digit admdvs)")
        inf_time: datetime | None
        try:
            text = _text(env, "inf_time")
            inf_time = clock.parse_datetime(text) if text else None
        except ValueError:
            inf_time = None
        warn = None
        if not (len(msgid) == 30 and msgid.startswith(code) and MSGID_FORM.match(msgid)):
            warn = "msgid 不符合 机构编号+yyyyMMddHHmmss+4位序号 的格式 (msgid form not standard)"
        ctx = CallContext(
            infno=infno,
            msgid=msgid,
            institution=institution,
            opter=_text(env, "opter") or "",
            opter_name=_text(env, "opter_name") or "",
            opter_type=_text(env, "opter_type") or "",
            inf_time=inf_time,
            now=received.replace(microsecond=0),
            mdtrtarea_admvs=admdvs,
            insuplc_admdvs=insuplc,
            sign_no=sign_no,
            signtype=_text(env, "signtype"),
            platform=self.platform,
        )
        refmsgid = self.refids.next(admdvs, received)

        async def authenticated_again() -> CallContext:
            # the generation moved under a cached credential: from the store this time (a
            # revoked credential or a deactivated institution is refused here)
            fresh, _, _ = await self.auth.institution(paasid, secret, signed, code, careful=True)
            return dataclasses.replace(ctx, institution=fresh)

        if txn.writes:
            claim = None if verified is None else self.nonces.for_write(str(paasid), verified)
            digest = input_digest(raw)
            try:
                payload = await self._write(
                    txn, ctx, data, digest, refmsgid, received, warn, claim, expected
                )
            except CredentialsChanged:
                ctx = await authenticated_again()
                payload = await self._write(
                    txn, ctx, data, digest, refmsgid, received, warn, claim, None
                )
            return Answer(payload, JSON_HEADERS)
        # A read is not logged, so a replayed nonce is always refused. Serving SQLite, a read
        # the writer runs claims its nonce in its own job (held here first); another read's
        # claim is settled here and written later; else it runs in the writer beside the read
        # (the read's answer is dropped when the claim refuses).
        claimed = None
        on_writer = self._reader is not None and txn.short_read
        in_job = None
        if verified is not None:
            if on_writer:
                in_job = self.nonces.hold_for_job(str(paasid), verified)
            elif self._reader is not None:
                self.nonces.claim_read_now(self._single_read(), str(paasid), verified)
            else:
                claimed = asyncio.ensure_future(self.nonces.claim_for_read(str(paasid), verified))
        try:
            if on_writer:
                try:
                    output = await self._read_on_writer(txn, ctx, data, in_job, expected)
                except CredentialsChanged:  # checked before its nonce's claim: claimed now
                    ctx = await authenticated_again()
                    output = await self._read_on_writer(txn, ctx, data, in_job, None)
            else:
                try:
                    output = await self._read_somewhere(txn, ctx, data, expected)
                except CredentialsChanged:  # its nonce's claim stands: it is this call's
                    ctx = await authenticated_again()
                    output = await self._read_somewhere(txn, ctx, data, None)
        finally:
            if claimed is not None:
                await claimed
        if txn.binary and isinstance(output, dict) and isinstance(output.get("content"), bytes):
            name = str(output.get("filename") or "download.zip").encode("utf-8", "replace")
            return Answer(
                output["content"],
                [
                    (b"content-type", b"application/octet-stream"),
                    (b"content-disposition", b'attachment; filename="' + name + b'"'),
                ],
            )
        payload = envelope(
            infcode=0,
            inf_refmsgid=refmsgid,
            received=received,
            responded=_now(),
            output=output,
            warn_msg=_warnings(output, warn),
        )
        return Answer(payload, JSON_HEADERS)

    async def _read_somewhere(
        self, txn: Transaction, ctx: CallContext, data: dict[str, Any], expected: int | None
    ) -> Any:
        """A read not run by the SQLite writer: a short one on the event loop itself (MySQL
        protocol, while the store answers), any other in the read pool."""
        if txn.short_read and self._short_reads_here and self._store_answers:
            try:
                return self._read(txn, ctx, data, expected)
            except Exception as exc:
                if faults.unavailable(exc) is not None:
                    self._store_answers = False  # the next reads wait in the pool's threads
                raise
        # the call's context (its request id for the log) goes with it to the thread
        return await self.reads.run(self._read, txn, ctx, data, expected)

    def _read(
        self, txn: Transaction, ctx: CallContext, data: dict[str, Any], expected: int | None
    ) -> Any:
        with self.platform.db.call_read() as conn:
            if expected is not None:
                self.credentials.check(conn, expected)
            return txn.handler(conn, ctx, data)

    async def _read_on_writer(
        self,
        txn: Transaction,
        ctx: CallContext,
        data: dict[str, Any],
        nonce: Claim | None,
        expected: int | None,
    ) -> Any:
        """A short read run by the SQLite writer's thread at the start of its next transaction
        (`Writer.read`): one thread runs the statements of every call, and the rows it keeps
        for a flow (`storage.row_cache`) serve the read too. `expected`: the credential
        generation checked first (`CredentialsChanged`: nothing claimed, nothing read).
        `nonce`: the signature's nonce, claimed in the store next — a nonce the store holds
        (another process's, or one from before a restart) refuses the read unanswered; the
        claim commits with the group."""
        rid = logs.request_id.get()
        claims = self.nonces
        credentials = self.credentials

        def read(conn: Connection) -> Any:
            token = logs.request_id.set(rid)  # its log lines carry this call's request id
            try:
                if expected is not None:
                    credentials.check(conn, expected)
                if nonce is not None:
                    claims.claim_in_job(conn, nonce)
                return txn.handler(conn, ctx, data)
            finally:
                logs.request_id.reset(token)

        return await self.platform.db.writer.read(read)

    def _loop_reader(self) -> Connection | None:
        """The event loop's reader for a one-statement look-up while serving SQLite, else
        None."""
        return self._single_read() if self._reader is not None else None

    def _single_read(self) -> Connection:
        """The event loop's reader connection for one statement outside a transaction (SQLite
        reads the latest commit for it alone): no BEGIN and ROLLBACK around one look-up."""
        conn = self._reader
        assert conn is not None
        if not conn.in_transaction():
            conn.begin()  # once, so the statement does not autobegin (see `_on_reader`)
        raw = conn.connection.dbapi_connection
        assert raw is not None
        if raw.in_transaction:
            raw.rollback()
        return conn

    async def _write(
        self,
        txn: Transaction,
        ctx: CallContext,
        data: dict[str, Any],
        digest: str,
        refmsgid: str,
        received: datetime,
        warn: str | None,
        claim: WriteClaim | None,
        expected: int | None,
    ) -> bytes:
        """The answer of a writing call; `expected`: the credential generation its transaction
        checks first (`CredentialsChanged` when it moved: nothing is written)."""

        def answer(output: Any) -> bytes:
            return envelope(
                infcode=0,
                inf_refmsgid=refmsgid,
                received=received,
                responded=_now(),
                output=output,
                warn_msg=_warnings(output, warn),
            )

        rid = logs.request_id.get()
        credentials = self.credentials

        def job(conn: Connection, *, optimistic: bool = False) -> bytes:
            # runs on the writer's thread: its log lines carry this call's request id
            token = logs.request_id.set(rid)
            try:
                if expected is not None:
                    credentials.check(conn, expected)
                return run_once(
                    conn, txn, ctx, data, digest=digest, answer=answer, claim=claim,
                    optimistic=optimistic,
                )  # fmt: skip
            finally:
                logs.request_id.reset(token)

        writer = self.platform.db.writer
        reviewer = self.platform.reviewer
        try:
            try:
                return await writer.run(lambda conn: job(conn, optimistic=True))
            except (IntegrityError, SeenBefore):
                if claim is not None:
                    claim.release()
                # A twin of this message committed first, a retry of an answered one (or a
                # key clash): evaluate once more, looking the msgid up; the stored answer or
                # 报文ID重复 comes back.
                return await writer.run(job)
            except ReviewRefused as refused:
                # The refused call wrote nothing (its savepoint rolled back); the evidence of
                # the refusing hit is kept in a transaction of its own (docs/review.md).
                if refused.rows:
                    rows = refused.rows
                    await writer.run(lambda conn: store_hits(conn, rows))
                raise
        except BaseException:
            if claim is not None:
                claim.release()  # a failed call leaves its nonce unclaimed
            raise
        finally:
            # committed (or not): a review kept for a settlement of this person is not taken
            # over past this call (`Reviewer.written`; SQLite only)
            if reviewer.reuse:
                reviewer.written(input_psn(data))
