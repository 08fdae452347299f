"""The national-interface gateway: one lean ASGI endpoint for every transaction.

Per call: read the body once, parse it once (`jsonx.loads`, fractions as Decimal), check the
envelope, the institution's credential (cached) and the msgid, dispatch on `infno` to the
registered handler and answer a response envelope — always HTTP 200, also for a refusal, a bad
credential, unreadable JSON or a bug (`infcode: -1`, `err_msg`). No pydantic, no dependency
injection on this path.

Writing transactions run in the storage writer (group commit on SQLite: one savepoint per call
inside a shared durable transaction). The msgid is claimed in `msg_log` in the same savepoint
as the transaction's effects and the stored answer written there too, so a refused call writes
nothing and an identical retry gets the stored answer. Read-only transactions run on a read
connection in a small thread pool and are not logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from yibao.api.nhsa.credentials import Credentials
from yibao.api.nhsa.envelope import RefIds, envelope
from yibao.errors import Conflict, YibaoError
from yibao.interface.context import CallContext, Institution
from yibao.interface.registry import Transaction, lookup
from yibao.kit import clock, jsonx
from yibao.policy.model import PolicyRefusal
from yibao.runtime import Platform
from yibao.storage.prepared import Prepared, PreparedInsert
from yibao.storage.tables import msg_log, sign_in

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MAX_BODY = 8 * 1024 * 1024
INFNO = re.compile(r"^\d{4}[A-Z]?$")
ADMDVS = re.compile(r"^\d{6}$")
MSGID_FORM = re.compile(r"^[HP]\d{11}\d{14}\d{4}$")
INTERNAL = "系统内部错误 (internal error; the server log has the details)"
JSON_HEADERS = [(b"content-type", b"application/json;charset=utf-8")]


_STORED = select(
    msg_log.c.fixmedins_code, msg_log.c.infno, msg_log.c.input_sha256, msg_log.c.response
).where(msg_log.c.msgid == bindparam("msgid"))
_ANSWER = (
    update(msg_log)
    .where(msg_log.c.msgid == bindparam("b_msgid"))
    .values(
        response=bindparam("b_response"),
        ref_id=bindparam("b_ref_id"),
        psn_no=bindparam("b_psn_no"),
    )
)

_P_STORED = Prepared(_STORED)
_P_CLAIM = PreparedInsert(msg_log)
_P_ANSWER = Prepared(_ANSWER)


try:  # the server's own HTTP protocol, when it is uvicorn's httptools one (see __call__)
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle as _HTTPTOOLS_CYCLE
except ImportError:  # pragma: no cover - uvicorn[standard] is a dependency
    _HTTPTOOLS_CYCLE = None  # type: ignore[assignment,misc]


class _Gather:
    """Stands in for a connection's transport while one response is sent: keeps the writes
    and hands them to the real transport in one `write` (`flush`, or before a close)."""

    __slots__ = ("chunks", "real")

    def __init__(self, real: Any) -> None:
        self.real = real
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.chunks.append(data)

    def flush(self) -> None:
        if self.chunks:
            data = b"".join(self.chunks)
            self.chunks.clear()
            if not self.real.is_closing():
                self.real.write(data)

    def close(self) -> None:
        self.flush()
        self.real.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class Refusal(Exception):
    """Refused before dispatch (envelope, credential): answered -1 with the message."""


def _text(env: dict[str, Any], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Refusal(f"{name}: 应为字符串 (must be a string)")
    text = str(value).strip()
    return text or None


def _input_digest(raw: Any) -> str:
    """sha256 of the canonical input (a retry must carry the same input)."""
    if isinstance(raw, str):
        data = raw.encode()
    else:
        try:
            data = orjson.dumps(raw, default=_canonical, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # an integer beyond 64 bits: the (slower) standard library copes
            data = json.dumps(raw, default=str, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _ref_and_person(output: Any) -> tuple[str | None, str | None]:
    """What a message produced, for msg_log (2601 looks it up by msgid)."""
    if not isinstance(output, dict):
        return None, None
    for node in ("setlinfo", "data", "result"):
        value = output.get(node)
        if isinstance(value, dict):
            ref = value.get("setl_id") or value.get("mdtrt_id")
            return (str(ref) if ref else None), value.get("psn_no")
    return None, None


class Gateway:
    """The ASGI app mounted under the national-interface paths."""

    def __init__(self, platform: Platform, *, read_workers: int = 4) -> None:
        self.platform = platform
        self.settings = platform.settings
        self.credentials = Credentials(platform.db)
        self.refids = RefIds(platform.settings.node_id)
        self.reads = ThreadPoolExecutor(
            max_workers=read_workers, thread_name_prefix="yibao-nhsa-read"
        )
        self._signed: dict[str, float] = {}
        #: SQLite, while serving (`start` … `close`): the inline reads (`Transaction.inline_read`) run on
        #: the event loop thread on this connection (a read of the page cache takes well under
        #: a millisecond; the executor hop and a pool checkout cost more CPU than that)
        self._reader: Connection | None = None

    def start(self) -> None:
        """Open the event loop's reader connection (call on the event loop thread)."""
        if self.platform.db.is_sqlite and self._reader is None:
            self._reader = self.platform.db.read_engine.connect()

    def stop(self) -> None:
        """Close the event loop's reader connection (reads go to the pool again)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def close(self) -> None:
        self.stop()
        self.reads.shutdown(wait=False, cancel_futures=True)

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body, too_big = await self._body(receive)
        paasid = secret = None
        for name, value in scope["headers"]:
            if name == b"x-tif-paasid":
                paasid = value.decode("latin-1").strip()
            elif name == b"x-yibao-key":
                secret = value.decode("latin-1").strip()
        payload, headers = await self.handle(body, paasid, secret, too_big=too_big)
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [*headers, (b"content-length", str(len(payload)).encode())],
        }
        reply = {"type": "http.response.body", "body": payload}
        cycle = getattr(send, "__self__", None)
        if _HTTPTOOLS_CYCLE is None or type(cycle) is not _HTTPTOOLS_CYCLE:
            await send(start)
            await send(reply)
            return
        # uvicorn (httptools) writes the head and the body of a response with a system call
        # each, and each wakes the client: a sixth of this process's Python time went into
        # those two writes. Its writes of this one response are gathered and written once
        # (the same bytes; uvicorn still does all the HTTP: status, headers, keep-alive).
        real = cycle.transport
        gather = _Gather(real)
        cycle.transport = gather  # type: ignore[assignment]  # duck-typed: write, close
        try:
            await send(start)
            await send(reply)
        finally:
            cycle.transport = real
            gather.flush()

    @staticmethod
    async def _body(receive: Receive) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_BODY:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), size > MAX_BODY

    # -- one call ------------------------------------------------------------------------

    async def handle(
        self, body: bytes, paasid: str | None, secret: str | None, *, too_big: bool = False
    ) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        received = datetime.now(clock.zone()).replace(tzinfo=None)
        admdvs = "000000"
        try:
            if too_big:
                raise Refusal(f"报文过大 (request larger than {MAX_BODY} bytes)")
            try:
                env = jsonx.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise Refusal("报文不是合法的JSON (request body is not valid JSON)") from None
            if not isinstance(env, dict):
                raise Refusal("报文应为JSON对象 (request body must be a JSON object)")
            area = _text(env, "mdtrtarea_admvs")
            if area and ADMDVS.match(area):
                admdvs = area
            return await self._dispatch(env, paasid, secret, received, admdvs)
        except Refusal as exc:
            return self._fail(str(exc), received, admdvs), JSON_HEADERS
        except (YibaoError, PolicyRefusal) as exc:
            return self._fail(
                getattr(exc, "message", None) or str(exc), received, admdvs
            ), JSON_HEADERS
        except Exception:
            log.exception("nhsa gateway: unexpected error")
            return self._fail(INTERNAL, received, admdvs), JSON_HEADERS

    def _fail(self, message: str, received: datetime, admdvs: str) -> bytes:
        now = datetime.now(clock.zone()).replace(tzinfo=None)
        return envelope(
            infcode=-1,
            inf_refmsgid=self.refids.next(admdvs, received),
            received=received,
            responded=now,
            err_msg=message[:2000],
        )

    async def _institution(self, paasid: str | None, secret: str | None, code: str) -> Institution:
        if not paasid or not secret:
            raise Refusal(
                "缺少机构凭证: 请求头 x-tif-paasid 与 x-yibao-key 必填 "
                "(credential headers x-tif-paasid and x-yibao-key are required)"
            )
        institution = self.credentials.cached(paasid, secret)
        if institution is None:
            loop = asyncio.get_running_loop()
            institution = await loop.run_in_executor(
                self.reads, self.credentials.verify, paasid, secret
            )
        if institution is None:
            raise Refusal("机构凭证无效或已吊销 (credential invalid or revoked)")
        if institution.fixmedins_code != code:
            raise Refusal(
                f"fixmedins_code: 定点医药机构编号 {code} 与凭证所属机构不一致 "
                "(the credential belongs to another institution)"
            )
        return institution

    async def _dispatch(
        self,
        env: dict[str, Any],
        paasid: str | None,
        secret: str | None,
        received: datetime,
        admdvs: str,
    ) -> tuple[bytes, list[tuple[bytes, bytes]]]:
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
        institution = await self._institution(paasid, secret, code)
        if admdvs == "000000" and ADMDVS.match(institution.admdvs):
            admdvs = institution.admdvs
        txn = lookup(infno)
        if txn is None:
            raise Refusal(f"infno: 不支持的交易 {infno} (transaction not supported)")
        raw = env.get("input")
        if isinstance(raw, str):
            try:
                data = jsonx.loads(raw) if raw.strip() else {}
            except ValueError:
                raise Refusal(
                    "input: 不是合法的JSON字符串 (input string is not valid JSON)"
                ) from None
        else:
            data = raw if raw is not None else {}
        if not isinstance(data, dict):
            raise Refusal("input: 应为对象 (input must be a JSON object)")
        sign_no = _text(env, "sign_no")
        if self.settings.require_sign_in and infno != "9001":
            await self._check_sign_in(code, sign_no)
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
        if txn.writes:
            payload = await self._write(
                txn, ctx, data, _input_digest(raw), refmsgid, received, warn
            )
            return payload, JSON_HEADERS
        if self._reader is not None and txn.inline_read:
            output = self._read_inline(txn, ctx, data)
        else:
            loop = asyncio.get_running_loop()
            output = await loop.run_in_executor(self.reads, self._read, txn, ctx, data)
        if txn.binary and isinstance(output, dict) and isinstance(output.get("content"), bytes):
            name = str(output.get("filename") or "download.zip").encode("utf-8", "replace")
            return output["content"], [
                (b"content-type", b"application/octet-stream"),
                (b"content-disposition", b'attachment; filename="' + name + b'"'),
            ]
        now = datetime.now(clock.zone()).replace(tzinfo=None)
        return (
            envelope(
                infcode=0,
                inf_refmsgid=refmsgid,
                received=received,
                responded=now,
                output=output,
                warn_msg=warn,
            ),
            JSON_HEADERS,
        )

    def _read(self, txn: Transaction, ctx: CallContext, data: dict[str, Any]) -> Any:
        with self.platform.db.read() as conn:
            return txn.handler(conn, ctx, data)

    def _read_inline(self, txn: Transaction, ctx: CallContext, data: dict[str, Any]) -> Any:
        """A short read on the event loop's own reader connection, in a read transaction of
        its own (rolled back): no executor hop, no pool checkout.

        The SQLite transaction is begun and rolled back on the driver connection: a
        SQLAlchemy `begin()` / `rollback()` pair (transaction object, begin event, the BEGIN
        through `exec_driver_sql`) cost more Python than the reads of a 1101. SQLAlchemy's
        own transaction on this connection is begun once and left open, so the statements
        of the handler (Core or `storage.fast`) never autobegin."""
        conn = self._reader
        assert conn is not None
        raw = conn.connection.dbapi_connection
        assert raw is not None
        if not conn.in_transaction():
            conn.begin()  # the engine's begin hook issues BEGIN (deferred) itself
        else:
            if raw.in_transaction:  # left open by a failure
                raw.rollback()
            raw.execute("BEGIN")
        try:
            return txn.handler(conn, ctx, data)
        finally:
            raw.rollback()

    async def _write(
        self,
        txn: Transaction,
        ctx: CallContext,
        data: dict[str, Any],
        digest: str,
        refmsgid: str,
        received: datetime,
        warn: str | None,
    ) -> bytes:
        def job(conn: Connection) -> bytes:
            stored = _P_STORED.first(conn, {"msgid": ctx.msgid})
            if stored is not None:
                if (
                    stored["fixmedins_code"] == ctx.fixmedins_code
                    and stored["infno"] == ctx.infno
                    and stored["input_sha256"] == digest
                    and stored["response"]
                ):
                    return str(stored["response"]).encode()
                raise Conflict(
                    f"msgid: 报文ID重复 '{ctx.msgid}' (this msgid was used for another message)"
                )
            claim = {
                "msgid": ctx.msgid,
                "fixmedins_code": ctx.fixmedins_code,
                "infno": ctx.infno,
                "input_sha256": digest,
                "infcode": 0,
                "response": "",
                "psn_no": None,
                "ref_id": None,
                "created_at": ctx.now,
            }
            # Claim the msgid first: on a MySQL-protocol store a concurrent twin blocks here
            # until this transaction ends, then fails on the key and is retried (see below).
            # On SQLite (one writer, nothing interleaves with this savepoint) the row is
            # written once, complete, after the handler: one statement instead of an INSERT
            # and an UPDATE of the answer. Not for 2601, the one handler that reads msg_log.
            late = conn.dialect.name == "sqlite" and not txn.reads_msg_log
            if not late:
                _P_CLAIM.execute(conn, claim)
            output = txn.handler(conn, ctx, data)
            now = datetime.now(clock.zone()).replace(tzinfo=None)
            payload = envelope(
                infcode=0,
                inf_refmsgid=refmsgid,
                received=received,
                responded=now,
                output=output,
                warn_msg=warn,
            )
            ref_id, psn_no = _ref_and_person(output)
            if psn_no is None:
                psn_no = _input_psn(data)
            if late:
                claim["response"] = payload.decode()
                claim["ref_id"] = ref_id
                claim["psn_no"] = psn_no
                _P_CLAIM.execute(conn, claim)
                return payload
            _P_ANSWER.execute(
                conn,
                {
                    "b_msgid": ctx.msgid,
                    "b_response": payload.decode(),
                    "b_ref_id": ref_id,
                    "b_psn_no": psn_no,
                },
            )
            return payload

        writer = self.platform.db.writer
        try:
            return await writer.run(job)
        except IntegrityError:
            # A twin of this message committed first (or a key clash): evaluate once more;
            # the stored answer or 报文ID重复 comes back.
            return await writer.run(job)

    async def _check_sign_in(self, code: str, sign_no: str | None) -> None:
        if not sign_no:
            raise Refusal("sign_no: 请先签到 (9001) 并在报文中填写签到流水号 (sign in first)")
        key = f"{code}/{sign_no}"
        if self._signed.get(key, 0.0) > time.monotonic():
            return

        def check() -> bool:
            with self.platform.db.read() as conn:
                row = conn.execute(
                    select(sign_in.c.fixmedins_code, sign_in.c.signout_time).where(
                        sign_in.c.sign_no == sign_no
                    )
                ).first()
            return row is not None and row[0] == code and row[1] is None

        ok = await asyncio.get_running_loop().run_in_executor(self.reads, check)
        if not ok:
            raise Refusal(f"sign_no: 签到流水号无效或已签退 '{sign_no}' (sign in again with 9001)")
        self._signed[key] = time.monotonic() + 30.0


def _input_psn(data: dict[str, Any]) -> str | None:
    for node in ("data", "mdtrtinfo", "druginfo", "dscginfo", "adminfo"):
        value = data.get(node)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, dict) and value.get("psn_no"):
            return str(value["psn_no"])[:30]
    lines = data.get("feedetail")
    if isinstance(lines, list) and lines and isinstance(lines[0], dict):
        value = lines[0].get("psn_no")
        return str(value)[:30] if value else None
    return None
