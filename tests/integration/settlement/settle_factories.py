"""Small factories for the settlement tests: institutions with credentials, insured persons,
catalog rows, and a fake HIS that builds envelopes the way real clients do
(reference/nhsa-interface.md §1.1, §6) and posts them to the gateway."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert

from yibao.enrolment.credentials import secret_sha256
from yibao.interface.context import CallContext, Institution
from yibao.interface.signature import Signed, sign
from yibao.interface.transactions import outpatient
from yibao.kit import jsonx
from yibao.kit.clock import local_naive_now
from yibao.runtime import Platform
from yibao.storage.tables import (
    catalog_item,
    catalog_version,
    fixmedins,
    fixmedins_credential,
    psn,
    psn_idet,
    psn_insu,
)

HOSP = "H11010200001"
HOSP2 = "H11010200002"
PHARM = "P11010200001"
REGION = "110199"

DRUG_B = "XA01ABD075A002010100483"  # 乙类 西药, 先行自付 10 %
EXAM_A = "002501010150200"  # 甲类 检验
CONSULT_A = "001102000010000"  # 甲类 诊察费
OWN_C = "C01010101010101010101"  # 丙类 耗材
LIMITED = "XB06ACL388B001010100001"  # 限制使用 乙类
CAPPED = "C02020202020202020202"  # 甲类 耗材, 限价 10.00/件
CHILD_ONLY = "XR05CBA001A001010100002"  # 限儿童 (< 14 岁)

_ids = itertools.count(10_000)


def _now() -> datetime:
    return local_naive_now()


def call_context(platform: Platform, msgid: str, infno: str) -> CallContext:
    """The call context of HOSP (a level-2 hospital of 110102) calling `infno` now, as the
    pipeline builds it: for driving a transaction's handler without HTTP."""
    return CallContext(
        infno=infno,
        msgid=msgid,
        institution=Institution(HOSP, "测试医院", "hospital", "2", "110102", None),
        opter="001",
        opter_name="收费员",
        opter_type="1",
        inf_time=None,
        now=local_naive_now(),
        mdtrtarea_admvs="110102",
        insuplc_admdvs=None,
        sign_no=None,
        signtype=None,
        platform=platform,
    )


def seed_institution(
    conn: Connection,
    code: str,
    *,
    kind: str = "hospital",
    hosp_lv: str = "2",
    admdvs: str = "110102",
    name: str | None = None,
    secret: str | None = None,
) -> tuple[str, str]:
    """An institution and one credential; returns (paasid, secret)."""
    now = _now()
    conn.execute(
        insert(fixmedins).values(
            fixmedins_code=code,
            fixmedins_name=name or f"测试机构{code}",
            kind=kind,
            hosp_lv=hosp_lv,
            admdvs=admdvs,
            parent_code=None,
            vali_flag="1",
            created_at=now,
            updated_at=now,
        )
    )
    paasid = f"{code}-test"
    secret = secret or f"secret-of-{code}"
    conn.execute(
        insert(fixmedins_credential).values(
            paasid=paasid,
            fixmedins_code=code,
            secret_sha256=secret_sha256(secret),
            vali_flag="1",
            created_at=now,
            revoked_at=None,
        )
    )
    return paasid, secret


@dataclass
class Person:
    psn_no: str
    certno: str
    psn_name: str = "张三"
    gend: str = "1"
    brdy: date = date(1990, 3, 7)
    insutype: str = "310"
    psn_type: str = "1101"
    balc: Decimal = Decimal("500.00")
    insuplc_admdvs: str = REGION
    family_id: str | None = None
    psn_insu_stas: str = "1"
    card_no: str | None = None
    card_sn: str | None = None
    ec_token: str | None = None
    identities: list[tuple[str, datetime]] = field(default_factory=list)


def seed_person(conn: Connection, p: Person) -> Person:
    now = _now()
    conn.execute(
        insert(psn).values(
            psn_no=p.psn_no,
            psn_cert_type="01",
            certno=p.certno,
            psn_name=p.psn_name,
            gend=p.gend,
            naty="01",
            brdy=p.brdy,
            tel=None,
            card_no=p.card_no,
            card_sn=p.card_sn,
            ec_token=p.ec_token,
            family_id=p.family_id,
            created_at=now,
            updated_at=now,
        )
    )
    conn.execute(
        insert(psn_insu).values(
            psn_no=p.psn_no,
            insutype=p.insutype,
            psn_type=p.psn_type,
            psn_insu_stas=p.psn_insu_stas,
            psn_insu_date=date(2015, 1, 1),
            paus_insu_date=None,
            cvlserv_flag="0",
            insuplc_admdvs=p.insuplc_admdvs,
            emp_name="测试单位",
            balc=p.balc,
            created_at=now,
            updated_at=now,
        )
    )
    for idet_type, begins in p.identities:
        conn.execute(
            insert(psn_idet).values(
                psn_no=p.psn_no, psn_idet_type=idet_type, begntime=begins, psn_type_lv=None
            )
        )
    return p


def item_row(
    code: str, name: str, list_type: str, lv: str, kind: str, **extra: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "hilist_code": code,
        "hilist_name": name,
        "list_type": list_type,
        "chrgitm_lv": lv,
        "med_chrgitm_type": kind,
        "selfpay_prop": Decimal("0"),
        "hilist_pric_uplmt_amt": None,
        "lmt_used_flag": "0",
        "begndate": date(2020, 1, 1),
        "enddate": None,
    }
    row.update(extra)
    return row


STANDARD_ITEMS = [
    item_row(DRUG_B, "地喹氯铵含片", "101", "02", "09", selfpay_prop=Decimal("0.10")),
    item_row(EXAM_A, "血常规", "201", "01", "04"),
    item_row(CONSULT_A, "门诊诊察费", "201", "01", "02"),
    item_row(OWN_C, "自费耗材", "301", "03", "08"),
    item_row(
        LIMITED, "限制使用药品", "101", "02", "09", selfpay_prop=Decimal("0.20"), lmt_used_flag="1"
    ),
    item_row(CAPPED, "限价耗材", "301", "01", "08", hilist_pric_uplmt_amt=Decimal("10.000000")),
    item_row(CHILD_ONLY, "儿童专用药", "101", "01", "09", lmt_age_max=14),
]


def seed_catalog(conn: Connection, items: Iterable[dict[str, Any]] = STANDARD_ITEMS) -> None:
    now = _now()
    version_id = next(_ids)
    rows = list(items)
    # one executemany takes its columns from the first row: give every row every key
    keys = {k for r in rows for k in r}

    def absent(key: str) -> Any:
        default = catalog_item.c[key].default
        return getattr(default, "arg", None)

    rows = [{k: r[k] if k in r else absent(k) for k in keys} for r in rows]
    conn.execute(
        insert(catalog_version).values(
            version_id=version_id,
            ver_no=version_id,
            ver="test",
            kinds="101,201,301",
            source="tests",
            row_count=len(rows),
            rejected_count=0,
            memo=None,
            created_at=now,
            created_by="tests",
        )
    )
    conn.execute(
        insert(catalog_item),
        [
            {
                "item_id": next(_ids),
                "version_id": version_id,
                "superseded_by": None,
                "vali_flag": "1",
                "created_at": now,
                **r,
            }
            for r in rows
        ],
    )


class His:
    """A hospital (or pharmacy) information system talking to the gateway."""

    PATH = "/fsi/api/rsfComIfsService/callService"

    def __init__(self, client: Any, code: str, paasid: str, secret: str) -> None:
        self.client = client
        self.code = code
        self.paasid = paasid
        self.secret = secret
        self._seq = itertools.count(1)
        self.sign_no = ""

    def msgid(self) -> str:
        return f"{self.code}{_now():%Y%m%d%H%M%S}{next(self._seq) % 10000:04d}"

    def envelope(
        self,
        infno: str,
        input: Any,
        *,
        msgid: str | None = None,
        insuplc_admdvs: str = REGION,
        code: str | None = None,
    ) -> dict[str, Any]:
        return {
            "infno": infno,
            "msgid": msgid or self.msgid(),
            "mdtrtarea_admvs": "110102",
            "insuplc_admdvs": insuplc_admdvs,
            "recer_sys_code": "YBXT",
            "dev_no": "",
            "dev_safe_info": "",
            "cainfo": "",
            "signtype": "",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "0001",
            "opter_name": "收费员甲",
            "inf_time": f"{_now():%Y-%m-%d %H:%M:%S}",
            "fixmedins_code": code or self.code,
            "fixmedins_name": "测试医院",
            "sign_no": self.sign_no,
            "input": input,
        }

    def headers(self) -> dict[str, str]:
        return {
            "x-tif-paasid": self.paasid,
            "x-yibao-key": self.secret,
            "content-type": "application/json;charset=utf-8",
        }

    async def post(
        self, body: bytes, *, headers: dict[str, str] | None = None, path: str | None = None
    ) -> Any:
        response = await self.client.post(
            path or self.PATH, content=body, headers=self.headers() if headers is None else headers
        )
        assert response.status_code == 200, response.text
        return jsonx.loads(response.content)

    async def send(self, envelope: dict[str, Any], **kw: Any) -> Any:
        return await self.post(jsonx.dumps(envelope), **kw)

    async def call(self, infno: str, input: Any, **kw: Any) -> Any:
        post_kw = {k: kw.pop(k) for k in ("headers", "path") if k in kw}
        return await self.send(self.envelope(infno, input, **kw), **post_kw)

    async def ok(self, infno: str, input: Any, **kw: Any) -> Any:
        answer = await self.call(infno, input, **kw)
        assert answer["infcode"] == 0, answer["err_msg"]
        return answer["output"]


def seed_outpatient_world(
    platform: Platform, p: Person, items: Iterable[dict[str, Any]] = STANDARD_ITEMS
) -> None:
    """The hospital `HOSP`, the catalog and person `p`, committed."""
    with platform.db.engine.begin() as conn:
        seed_institution(conn, HOSP)
        seed_catalog(conn, items)
        seed_person(conn, p)


def registered_visit(conn: Connection, platform: Platform, p: Person, msgid: str = "M1") -> str:
    """A 2201 for `p` at `HOSP` run without HTTP; its mdtrt_id."""
    registered = outpatient.register(conn, call_context(platform, msgid, "2201"), register_input(p))
    assert registered is not None
    return str(registered["data"]["mdtrt_id"])


# ------------------------------------------------------------------ message bodies


def fee_line(
    sn: str,
    mdtrt_id: str,
    psn_no: str,
    code: str,
    amount: str,
    *,
    cnt: str = "1",
    pric: str | None = None,
    batch: str = "CB0001",
    appr: str = "0",
    at: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "feedetl_sn": sn,
        "mdtrt_id": mdtrt_id,
        "psn_no": psn_no,
        "chrg_bchno": batch,
        "rx_circ_flag": "0",
        "fee_ocur_time": f"{at or _now():%Y-%m-%d %H:%M:%S}",
        "med_list_codg": code,
        "medins_list_codg": f"L-{code[:10]}",
        "det_item_fee_sumamt": Decimal(amount),
        "cnt": Decimal(cnt),
        "pric": Decimal(pric if pric is not None else amount),
        "bilg_dept_codg": "A03",
        "bilg_dept_name": "内科",
        "bilg_dr_codg": "D110102000001",
        "bilg_dr_name": "李医生",
        "hosp_appr_flag": appr,
        **extra,
    }


def register_input(p: Person, *, ipt_otp_no: str = "OTP0001") -> dict[str, Any]:
    return {
        "data": {
            "psn_no": p.psn_no,
            "insutype": p.insutype,
            "begntime": f"{_now():%Y-%m-%d %H:%M:%S}",
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": p.certno,
            "ipt_otp_no": ipt_otp_no,
            "atddr_no": "D110102000001",
            "dr_name": "李医生",
            "dept_code": "A03",
            "dept_name": "内科",
            "caty": "A03",
        }
    }


def settle_input(
    p: Person,
    mdtrt_id: str,
    total: Decimal | str,
    *,
    batch: str | None = "CB0001",
    acct: str = "1",
    **extra: Any,
) -> dict[str, Any]:
    data = {
        "psn_no": p.psn_no,
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": p.certno,
        "med_type": "11",
        "medfee_sumamt": Decimal(str(total)),
        "psn_setlway": "01",
        "mdtrt_id": mdtrt_id,
        "chrg_bchno": batch,
        "insutype": p.insutype,
        "acct_used_flag": acct,
        "invono": "",
    }
    data.update(extra)
    return {"data": data}


def echo(pre: dict[str, Any]) -> dict[str, Any]:
    info = pre["setlinfo"]
    return {
        name: info[name]
        for name in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
    }


class CountedStatement:
    """A prepared statement (`storage.prepared`) whose executions are noted by name in
    `seen`: put in place of a repository's module-level statement to count the reads that
    reach the store."""

    def __init__(self, name: str, prepared: Any, seen: list[str]) -> None:
        self._name, self._prepared, self._seen = name, prepared, seen

    def first(self, *args: Any) -> Any:
        self._seen.append(self._name)
        return self._prepared.first(*args)

    def all(self, *args: Any) -> Any:
        self._seen.append(self._name)
        return self._prepared.all(*args)


class Signer:
    """A HIS that signs: its paasid and paasToken, and the headers of one request."""

    def __init__(self, paasid: str, token: str) -> None:
        self.paasid = paasid
        self.token = token

    def signed(
        self, *, at: int | None = None, nonce: str | None = None, token: str | None = None
    ) -> Signed:
        stamp = str(int(time.time()) if at is None else at)
        once = nonce or uuid.uuid4().hex
        return Signed(stamp, once, sign(stamp, token or self.token, once))

    def http_headers(self, signed: Signed, **extra: str) -> dict[str, str]:
        assert signed.timestamp and signed.nonce and signed.signature
        return {
            "x-tif-paasId": self.paasid,  # the spelling some clients use
            "x-tif-timestamp": signed.timestamp,
            "x-tif-nonce": signed.nonce,
            "X-TIF-SIGNATURE": signed.signature,
            **extra,
        }
