"""Seeded fuzzing of the national interface: mutated envelopes of every registered transaction,
sent to a call pipeline (or over HTTP), each answer judged.

design.md §4: bad input gets `infcode: -1` with a message naming the field and the rule, never
a crash, and a refused call writes nothing. A case fails when

- its answer is `-1 系统内部错误` (an exception the pipeline did not expect: a bug),
- an exception escapes the pipeline, or the transport answers HTTP 5xx,
- it was refused (`-1`) and the row counts of the watched tables moved.

The cases are seeded (`random.Random(seed)`): the same seed sends the same bytes, so a failure
found by `yibao bench` can be replayed in a test. A mutation starts from a plausible input of
the transaction (`seed_inputs`, the national field names, ids of a visit opened through the
interface itself by `open_visits`) and breaks one thing: a value replaced by a hostile one
(wrong type, null, huge, negative, NaN or exponent numbers, integers past 2^63, long strings,
deep nesting, lone surrogates as JSON escapes and as raw bytes, odd Unicode), a field or node
removed, a key duplicated, or the whole body (invalid UTF-8, another charset, truncated, deep).

    report = await run_fuzz(pipeline_sender(pipeline), caller, seeds, counts, cases=2000, seed=7)
    assert report.failures == 0, report.samples
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import orjson
from sqlalchemy import func, select

from yibao.interface.pipeline import CallPipeline
from yibao.interface.registry import all_transactions, load_handlers
from yibao.runtime import Platform
from yibao.storage.tables import metadata

INTERNAL = "系统内部错误"
#: tables a refused call may write (design.md §4, issue 23): the audit trail, console sessions
#: and the id counters taken outside the call's transaction; every other table is watched
UNWATCHED = frozenset({"audit_log", "auth_session", "seq_counter", "rule_hit"})
#: how many failing cases a report keeps as samples
MAX_SAMPLES = 40


class Reply(NamedTuple):
    """What a sender got back: the HTTP status (200 from a pipeline) and the payload."""

    status: int
    payload: bytes
    content_type: str


#: sends one body with credential headers and returns the reply
Sender = Callable[[bytes, str | None, str | None], Awaitable[Reply]]


def pipeline_sender(pipeline: CallPipeline) -> Sender:
    """Calls answered by the pipeline object directly (no HTTP)."""

    async def send(body: bytes, paasid: str | None, secret: str | None) -> Reply:
        answer = await pipeline.handle(body, paasid, secret)
        kind = dict(answer.headers).get(b"content-type", b"").decode("latin-1")
        return Reply(200, answer.payload, kind)

    return send


@dataclass(frozen=True, slots=True)
class Caller:
    """The institution the cases are sent as (its credential headers and sign-in)."""

    fixmedins_code: str
    paasid: str
    secret: str
    admdvs: str = "110102"
    insuplc_admdvs: str = "110199"
    sign_no: str = ""


@dataclass(frozen=True, slots=True)
class SeedIds:
    """The ids the plausible inputs name: a person, a catalog item and open visits."""

    psn_no: str
    certno: str
    insutype: str = "310"
    item_code: str = "001102000010000"
    mdtrt_id: str = "0"
    ipt_mdtrt_id: str = "0"
    setl_id: str = "0"


@dataclass(slots=True)
class FuzzReport:
    cases: int = 0
    answered: int = 0
    refused: int = 0
    internal_errors: int = 0
    escapes: int = 0
    http_5xx: int = 0
    writes_after_refusal: int = 0
    seconds: float = 0.0
    #: failing cases: "infno mutation: what happened"
    samples: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return self.internal_errors + self.escapes + self.http_5xx + self.writes_after_refusal

    def note(self, case: Case, what: str) -> None:
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(f"{case.infno} {case.mutation}: {what}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "fuzz_cases": self.cases,
            "answered": self.answered,
            "refused": self.refused,
            "internal_errors": self.internal_errors,
            "escapes": self.escapes,
            "http_5xx": self.http_5xx,
            "writes_after_refusal": self.writes_after_refusal,
            "seconds": round(self.seconds, 2),
            "samples": list(self.samples),
        }


@dataclass(frozen=True, slots=True)
class Case:
    infno: str
    mutation: str
    body: bytes


# -- the JSON the cases are written in ----------------------------------------------------------
# Hostile bytes cannot be built from Python values by a JSON library (a lone surrogate, `NaN`,
# `1e999`, a duplicate key, invalid UTF-8), so the cases are written by this small encoder.


@dataclass(frozen=True, slots=True)
class Raw:
    """Bytes written verbatim where a value goes."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Pairs:
    """An object written from its pairs: a key may occur twice."""

    items: tuple[tuple[str, Any], ...]


def encode(value: Any) -> bytes:
    if isinstance(value, Raw):
        return value.data
    if value is None or isinstance(value, (bool, int, str)):
        return orjson.dumps(value) if not isinstance(value, int) or abs(value) < 2**63 else (
            str(value).encode()
        )
    if isinstance(value, Decimal):
        return format(value, "f").encode()
    if isinstance(value, Pairs):
        items = value.items
    elif isinstance(value, Mapping):
        items = tuple(value.items())
    elif isinstance(value, (list, tuple)):
        return b"[" + b",".join(encode(v) for v in value) + b"]"
    else:
        raise TypeError(type(value).__name__)
    return b"{" + b",".join(orjson.dumps(k) + b":" + encode(v) for k, v in items) + b"}"


def _deep(depth: int, *, objects: bool) -> Raw:
    if objects:
        return Raw(b'{"a":' * depth + b"1" + b"}" * depth)
    return Raw(b"[" * depth + b"1" + b"]" * depth)


#: values a client can send where any value goes
HOSTILE: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    [],
    {},
    [None],
    [[]],
    {"": None},
    "",
    " ",
    "x" * 5_000,
    "中" * 100_000,
    "9" * 25,
    "-0",
    "1e999",
    "NaN",
    "Infinity",
    "0x10",
    "2024-13-45 25:61:61",
    "9999-12-31 23:59:59",
    "0000-00-00",
    "\x00",
    "\u202e\u200b",
    "😀",
    "\u3000",
    2**63,
    2**64,
    -(2**63) - 1,
    10**40,
    Raw(b"9" * 5_000),
    Raw(b"-0"),
    Raw(b"-0.0"),
    Raw(b"1e999"),
    Raw(b"1E400"),
    Raw(b"-1e999"),
    Raw(b"1e-400"),
    Raw(b"1E+20"),
    Raw(b"0.001"),
    Raw(b"12.345678901234567890"),
    Raw(b"99999999999999999.99"),
    Raw(b"NaN"),
    Raw(b"Infinity"),
    Raw(b"-Infinity"),
    Raw(b'"\\ud800"'),
    Raw(b'"a\\udc00b"'),
    Raw(b'"\\ud83d\\ude00"'),
    Raw(b'"\xed\xa0\x80"'),
    Raw(b'"\xff\xfe"'),
    Raw(b'"\xe4\xb8"'),
    Raw(b'"\xc0\xaf"'),
    _deep(40, objects=False),
    _deep(1_000, objects=False),
    _deep(1_000, objects=True),
)
#: values only sometimes (they are large)
RARE: tuple[Any, ...] = (_deep(100_000, objects=False), _deep(100_000, objects=True))


def seed_inputs(ids: SeedIds, *, now: datetime) -> dict[str, dict[str, Any]]:
    """A plausible `input` for each transaction, in the national field names, naming `ids`."""
    t = f"{now:%Y-%m-%d %H:%M:%S}"
    d = f"{now:%Y-%m-%d}"
    cert = {"mdtrt_cert_type": "02", "mdtrt_cert_no": ids.certno}
    person = {"psn_no": ids.psn_no, "insutype": ids.insutype, **cert}

    def line(sn: str, mdtrt_id: str) -> dict[str, Any]:
        return {
            "feedetl_sn": sn,
            "mdtrt_id": mdtrt_id,
            "psn_no": ids.psn_no,
            "chrg_bchno": "CB0001",
            "rx_circ_flag": "0",
            "fee_ocur_time": t,
            "med_list_codg": ids.item_code,
            "medins_list_codg": "L-0001",
            "det_item_fee_sumamt": Decimal("10.00"),
            "cnt": Decimal("1"),
            "pric": Decimal("10.00"),
            "bilg_dept_codg": "A03",
            "bilg_dept_name": "内科",
            "bilg_dr_codg": "D110102000001",
            "bilg_dr_name": "李医生",
            "hosp_appr_flag": "0",
        }

    def settle(mdtrt_id: str, med_type: str) -> dict[str, Any]:
        return {
            "data": {
                **person,
                "med_type": med_type,
                "medfee_sumamt": Decimal("10.00"),
                "psn_setlway": "01",
                "mdtrt_id": mdtrt_id,
                "chrg_bchno": "CB0001",
                "acct_used_flag": "1",
                "invono": "",
                "mid_setl_flag": "0",
                "fulamt_ownpay_amt": Decimal("0.00"),
                "overlmt_selfpay": Decimal("0.00"),
                "preselfpay_amt": Decimal("0.00"),
                "inscp_scp_amt": Decimal("10.00"),
            }
        }

    visit = {"mdtrt_id": ids.mdtrt_id, "psn_no": ids.psn_no}
    stay = {"mdtrt_id": ids.ipt_mdtrt_id, "psn_no": ids.psn_no}
    drug = {**line("1", ""), "med_list_codg": ids.item_code}
    druginfo = {
        **person,
        "med_type": "41",
        "medfee_sumamt": Decimal("10.00"),
        "acct_used_flag": "1",
        "begntime": t,
        "invono": "",
        "dise_codg": "",
        "dise_name": "",
    }
    seeds: dict[str, dict[str, Any]] = {
        "1101": {"data": {**cert, "card_sn": "", "psn_name": "张三"}},
        "1312": {
            "data": {
                "query_date": d,
                "hilist_code": ids.item_code,
                "insuplc_admdvs": "110199",
                "page_num": 1,
                "page_size": 10,
                "updt_time": "2020-01-01 00:00:00",
                "vali_flag": "1",
            }
        },
        "2101": {"druginfo": druginfo, "drugdetail": [drug]},
        "2102": {"druginfo": druginfo, "drugdetail": [drug]},
        "2103": {"data": {"setl_id": ids.setl_id, "psn_no": ids.psn_no, "mdtrt_id": "0"}},
        "2201": {
            "data": {
                **person,
                "begntime": t,
                "ipt_otp_no": "OTP0001",
                "med_type": "11",
                "atddr_no": "D110102000001",
                "dr_name": "李医生",
                "dept_code": "A03",
                "dept_name": "内科",
                "caty": "A03",
            }
        },
        "2202": {"data": {**visit, "ipt_otp_no": "OTP0001"}},
        "2203": {
            "mdtrtinfo": {
                **visit,
                "med_type": "11",
                "begntime": t,
                "main_cond_dscr": "咳嗽",
                "dise_codg": "J00",
                "dise_name": "急性鼻咽炎",
            },
            "diseinfo": [
                {
                    **visit,
                    "diag_type": "1",
                    "diag_srt_no": 1,
                    "diag_code": "J00",
                    "diag_name": "急性鼻咽炎",
                    "diag_dept": "内科",
                    "dise_dor_no": "D110102000001",
                    "dise_dor_name": "李医生",
                    "diag_time": t,
                    "maindiag_flag": "1",
                }
            ],
        },
        "2204": {"feedetail": [line("1", ids.mdtrt_id), line("2", ids.mdtrt_id)]},
        "2205": {"data": {**visit, "chrg_bchno": "CB0001"}},
        "2206": settle(ids.mdtrt_id, "11"),
        "2207": settle(ids.mdtrt_id, "11"),
        "2208": {"data": {**visit, "setl_id": ids.setl_id}},
        "2301": {"feedetail": [line("1", ids.ipt_mdtrt_id)]},
        "2302": {"data": {**stay, "feedetl_sn": "1"}},
        "2303": settle(ids.ipt_mdtrt_id, "21"),
        "2304": settle(ids.ipt_mdtrt_id, "21"),
        "2305": {"data": {**stay, "setl_id": ids.setl_id}},
        "2401": {
            "mdtrtinfo": {
                **person,
                "begntime": t,
                "med_type": "21",
                "ipt_no": "IPT0001",
                "atddr_no": "D110102000001",
                "chfpdr_name": "李医生",
                "adm_dept_codg": "A03",
                "adm_dept_name": "内科",
                "adm_bed": "12",
                "main_cond_dscr": "发热",
                "adm_diag_dscr": "肺炎",
                "dise_codg": "J18",
                "dise_name": "肺炎",
                "dscg_maindiag_code": "J18",
                "dscg_maindiag_name": "肺炎",
            }
        },
        "2402": {
            "dscginfo": {
                **stay,
                "endtime": t,
                "dscg_way": "1",
                "dise_codg": "J18",
                "dise_name": "肺炎",
            }
        },
        "2403": {"adminfo": {**stay, "begntime": t}},
        "2404": {"data": stay},
        "2405": {"data": stay},
        "2601": {"data": {"psn_no": ids.psn_no, "omsgid": "X" * 30, "oinfno": "2207"}},
        "3201": {
            "data": {
                "insutype": ids.insutype,
                "clr_type": "11",
                "setl_optins": "110199",
                "stmt_begndate": d,
                "stmt_enddate": d,
                "medfee_sumamt": Decimal("0.00"),
                "fund_pay_sumamt": Decimal("0.00"),
                "acct_pay": Decimal("0.00"),
                "fixmedins_setl_cnt": 0,
                "refd_setl_flag": "0",
            }
        },
        "3202": {
            "data": {
                "setl_optins": "110199",
                "file_qury_no": "1",
                "stmt_begndate": d,
                "stmt_enddate": d,
                "medfee_sumamt": Decimal("0.00"),
                "fund_pay_sumamt": Decimal("0.00"),
                "cash_payamt": Decimal("0.00"),
                "fixmedins_setl_cnt": 0,
                "clr_type": "11",
                "insutype": ids.insutype,
                "refd_setl_flag": "0",
            }
        },
        "3301": {
            "data": [
                {
                    "fixmedins_hilist_id": "L-0001",
                    "fixmedins_hilist_name": "诊察费",
                    "list_type": "201",
                    "med_list_codg": ids.item_code,
                    "begndate": d,
                    "enddate": "",
                }
            ]
        },
        "3302": {
            "data": {
                "fixmedins_code": "",
                "fixmedins_hilist_id": "L-0001",
                "list_type": "201",
                "med_list_codg": ids.item_code,
            }
        },
        "5201": {"data": {"psn_no": ids.psn_no, "begntime": t, "endtime": t, "med_type": "11"}},
        "5203": {"data": {"psn_no": ids.psn_no, "setl_id": ids.setl_id, "mdtrt_id": "0"}},
        "5204": {"data": {**visit, "setl_id": ids.setl_id}},
        "9001": {"signIn": {"opter_no": "0001", "mac": "00-11-22-33-44-55", "ip": "10.0.0.8"}},
        "9002": {"signOut": {"sign_no": "1", "opter_no": "0001"}},
        "9101": {"fsUploadIn": {"in": "UEsDBA==", "filename": "a.zip", "fixmedins_code": ""}},
        "9102": {"fsDownloadIn": {"file_qury_no": "1", "filename": "a.zip", "fixmedins_code": ""}},
    }
    for infno in ("1301", "1302", "1303", "1305", "1306", "1307", "1308", "1309", "1310"):
        seeds[infno] = {"data": {"ver": "0"}}
    for infno in ("1311", "1313", "1314", "1315", "1320", "1321"):
        seeds[infno] = {"data": {"ver": "0"}}
    return seeds


# -- mutations ---------------------------------------------------------------------------------

Path = tuple[str | int, ...]


def _paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*prefix, i)
            yield from _paths(item, (*prefix, i))


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _parent(tree: Any, path: Path) -> Any:
    for step in path[:-1]:
        tree = tree[step]
    return tree


def _name(path: Path) -> str:
    return ".".join(str(p) for p in path)


def _hostile(rng: random.Random) -> Any:
    if rng.random() < 0.01:
        return rng.choice(RARE)
    return rng.choice(HOSTILE)


def _describe(value: Any) -> str:
    if isinstance(value, Raw):
        text = value.data[:24].decode("utf-8", "backslashreplace")
        return f"raw {text}{'…' if len(value.data) > 24 else ''}"
    text = repr(value)
    return text[:24] + ("…" if len(text) > 24 else "")


def mutate(rng: random.Random, env: dict[str, Any]) -> tuple[str, bytes]:
    """One mutation of the envelope `env` (not changed): its description and the body."""
    roll = rng.random()
    tree = _copy(env)
    if roll < 0.08:
        return _body_mutation(rng, tree)
    inside = [p for p in _paths(tree["input"], ("input",))] if isinstance(tree["input"], dict) else []
    paths = inside if inside and roll < 0.85 else list(_paths(tree))
    path = rng.choice(paths)
    parent = _parent(tree, path)
    key = path[-1]
    kind = rng.random()
    if kind < 0.7:
        value = _hostile(rng)
        parent[key] = value
        return f"{_name(path)} = {_describe(value)}", encode(tree)
    if kind < 0.85:
        del parent[key]
        return f"{_name(path)} removed", encode(tree)
    if isinstance(parent, dict):
        items = list(parent.items())
        twin = _hostile(rng) if rng.random() < 0.5 else parent[key]
        where = rng.randrange(len(items) + 1)
        items.insert(where, (str(key), twin))
        grand = _parent(tree, path[:-1]) if len(path) > 1 else None
        replaced = Pairs(tuple(items))
        if grand is None:
            return f"{_name(path)} duplicated", encode(replaced)
        grand[path[-2]] = replaced
        return f"{_name(path)} duplicated", encode(tree)
    # an element of a list: the list becomes a single object, a string or a number
    odd = rng.choice(("a string", 1, {"x": 1}, [[parent[key]]]))
    parent[key] = odd
    return f"{_name(path)} = {_describe(odd)}", encode(tree)


def _body_mutation(rng: random.Random, tree: dict[str, Any]) -> tuple[str, bytes]:
    body = encode(tree)
    choice = rng.randrange(12)
    if choice == 0:
        cut = rng.randrange(len(body))
        return f"body truncated at {cut}", body[:cut]
    if choice == 1:
        return "body in GBK", encode(tree).decode().encode("gbk", "replace")
    if choice == 2:
        return "body in UTF-16", body.decode().encode("utf-16")
    if choice == 3:
        return "body with a UTF-8 BOM", b"\xef\xbb\xbf" + body
    if choice == 4:
        at = rng.randrange(len(body))
        return f"byte {at} = 0xff", body[:at] + b"\xff" + body[at + 1 :]
    if choice == 5:
        return "body nested 100000 deep", _deep(100_000, objects=rng.random() < 0.5).data
    if choice == 6:
        return "body nested 1000 deep", _deep(1_000, objects=rng.random() < 0.5).data
    if choice == 7:
        return "input as a JSON string", encode({**tree, "input": encode(tree["input"]).decode()})
    if choice == 8:
        deep = _deep(1_000, objects=True).data.decode()
        return "input as a deep JSON string", encode({**tree, "input": deep})
    if choice == 9:
        raw = b'"\\ud800' + b'"'
        return "input as a string with a lone surrogate", encode({**tree, "input": Raw(raw)})
    if choice == 10:
        return "body empty or a scalar", rng.choice((b"", b"null", b"1", b'"x"', b"[]", b" "))
    return "body of an unknown infno", encode({**tree, "infno": rng.choice(("0000", "2207Z"))})


# -- the run -----------------------------------------------------------------------------------


class Counts:
    """Row counts of the watched tables, in one statement."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        tables = [t for t in metadata.sorted_tables if t.name not in UNWATCHED]
        self.names = [t.name for t in tables]
        self.query = select(
            *(select(func.count()).select_from(t).scalar_subquery() for t in tables)
        )

    def __call__(self) -> tuple[int, ...]:
        with self.platform.db.read() as conn:
            row = conn.execute(self.query).one()
        return tuple(int(v) for v in row)

    def moved(self, before: Sequence[int], after: Sequence[int]) -> list[str]:
        return [
            f"{n} {a - b:+d}" for n, b, a in zip(self.names, before, after, strict=True) if a != b
        ]


def envelope(caller: Caller, infno: str, input_: Any, *, msgid: str, at: datetime) -> dict[str, Any]:
    return {
        "infno": infno,
        "msgid": msgid,
        "mdtrtarea_admvs": caller.admdvs,
        "insuplc_admdvs": caller.insuplc_admdvs,
        "recer_sys_code": "YBXT",
        "dev_no": "",
        "dev_safe_info": "",
        "cainfo": "",
        "signtype": "",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "0001",
        "opter_name": "收费员甲",
        "inf_time": f"{at:%Y-%m-%d %H:%M:%S}",
        "fixmedins_code": caller.fixmedins_code,
        "fixmedins_name": "测试医院",
        "sign_no": caller.sign_no,
        "input": input_,
    }


class Msgids:
    """Distinct msgids in the national form (code + yyyyMMddHHmmss + 4 digits)."""

    def __init__(self, code: str, start: datetime) -> None:
        self.code = code
        self.start = start
        self.counter = itertools.count()

    def next(self) -> str:
        n = next(self.counter)
        at = self.start + timedelta(seconds=n // 10_000)
        return f"{self.code}{at:%Y%m%d%H%M%S}{n % 10_000:04d}"


def cases(
    caller: Caller,
    seeds: Mapping[str, dict[str, Any]],
    *,
    count: int,
    seed: int,
    infnos: Sequence[str] | None = None,
    now: datetime | None = None,
) -> Iterator[Case]:
    """`count` mutated envelopes, spread evenly over `infnos` (default: every registered one)."""
    if infnos is None:
        load_handlers()
        infnos = sorted(all_transactions())
    rng = random.Random(seed)
    at = now or datetime.now().replace(microsecond=0)
    ids = Msgids(caller.fixmedins_code, at)
    for n in range(count):
        infno = infnos[n % len(infnos)]
        base = envelope(caller, infno, seeds.get(infno, {"data": {}}), msgid=ids.next(), at=at)
        mutation, body = mutate(rng, base)
        yield Case(infno, mutation, body)


async def judge(
    send: Sender,
    caller: Caller,
    case: Case,
    report: FuzzReport,
    counts: Counts | None,
) -> None:
    """Send one case and count what it shows."""
    before = counts() if counts is not None else None
    report.cases += 1
    try:
        reply = await send(case.body, caller.paasid, caller.secret)
    except Exception as exc:  # the point of the harness: an escape is counted, not raised
        report.escapes += 1
        report.note(case, f"escaped {type(exc).__name__}: {exc}"[:300])
        return
    if reply.status >= 500:
        report.http_5xx += 1
        report.note(case, f"HTTP {reply.status}: {reply.payload[:200]!r}")
        return
    if not reply.content_type.startswith("application/json"):
        report.answered += 1  # a file (9102)
        return
    try:
        answer = orjson.loads(reply.payload)
    except orjson.JSONDecodeError:
        report.escapes += 1
        report.note(case, f"answer is not JSON: {reply.payload[:200]!r}")
        return
    if answer.get("infcode") == 0:
        report.answered += 1
        return
    report.refused += 1
    message = str(answer.get("err_msg"))
    if INTERNAL in message:
        report.internal_errors += 1
        report.note(case, message[:200])
    if counts is not None and before is not None:
        moved = counts.moved(before, counts())
        if moved:
            report.writes_after_refusal += 1
            report.note(case, f"refused but wrote {', '.join(moved)}: {message[:120]}")


async def run_fuzz(
    send: Sender,
    caller: Caller,
    seeds: Mapping[str, dict[str, Any]],
    counts: Counts | None,
    *,
    cases_: int,
    seed: int,
    infnos: Sequence[str] | None = None,
) -> FuzzReport:
    """Send `cases_` mutated envelopes one after another and judge each (see the module doc)."""
    report = FuzzReport()
    started = time.perf_counter()
    for case in cases(caller, seeds, count=cases_, seed=seed, infnos=infnos):
        await judge(send, caller, case, report, counts)
    report.seconds = time.perf_counter() - started
    return report


async def open_visits(send: Sender, caller: Caller, ids: SeedIds) -> SeedIds:
    """Open an outpatient visit with a fee line and an admission through the interface, so the
    plausible inputs name visits that exist (a case then reaches the readers behind the
    lookups). Ids a call does not answer stay as they were."""
    now = datetime.now().replace(microsecond=0)
    seeds = seed_inputs(ids, now=now)
    msgids = Msgids(caller.fixmedins_code, now - timedelta(days=1))

    async def call(infno: str, input_: Any) -> dict[str, Any]:
        body = encode(envelope(caller, infno, input_, msgid=msgids.next(), at=now))
        reply = await send(body, caller.paasid, caller.secret)
        answer = orjson.loads(reply.payload)
        output = answer.get("output") if answer.get("infcode") == 0 else None
        return output if isinstance(output, dict) else {}

    visit = (await call("2201", seeds["2201"])).get("data") or {}
    mdtrt_id = str(visit.get("mdtrt_id") or ids.mdtrt_id)
    stay = (await call("2401", seeds["2401"])).get("result") or {}
    ipt = str(stay.get("mdtrt_id") or ids.ipt_mdtrt_id)
    opened = SeedIds(ids.psn_no, ids.certno, ids.insutype, ids.item_code, mdtrt_id, ipt, ids.setl_id)
    seeds = seed_inputs(opened, now=now)
    await call("2204", seeds["2204"])
    await call("2301", seeds["2301"])
    return opened
