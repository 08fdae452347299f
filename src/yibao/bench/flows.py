"""The city's flows replayed through the national interface, as a HIS or POS would call it.

- outpatient: 1101 → 2201 → 2204 (10 fee lines) → 2206 → 2207 [→ 2208]
- inpatient:  1101 → 2401 → 2301 (20 fee lines) → 2402 → 2303 → 2304 [→ 2305]
- pharmacy:   1101 → 2101 (4 drug lines) → 2102 [→ 2103]

Every call counts only when it answers `infcode: 0`; anything else is an error, recorded with
its err_msg, and ends the flow.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from yibao.bench.fixtures import Fixtures
from yibao.bench.http import HttpError, HttpxConnection, RawConnection
from yibao.bench.stats import Recorder
from yibao.interface.signature import sign
from yibao.kit import jsonx
from yibao.kit.money import round_fen

PATH = "/fsi/api/rsfComIfsService/callService"
SETTLE_INFNOS = ("2207", "2304", "2102")
#: responses whose amounts the next call echoes: parsed exactly (Decimal)
_EXACT = frozenset({"2206", "2303", "2101"})
_seq = itertools.count()


def msgid(fixmedins_code: str, now: float) -> str:
    """fixmedins_code (12) + yyyyMMddHHmmss (14) + a 4-digit sequence = 30 characters."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(now))
    return f"{fixmedins_code}{stamp}{next(_seq) % 10000:04d}"


def envelope(
    infno: str,
    inst: Mapping[str, Any],
    data: Mapping[str, Any],
    *,
    now: float,
    insuplc_admdvs: str = "110199",
) -> bytes:
    return jsonx.dumps(
        {
            "infno": infno,
            "msgid": msgid(inst["code"], now),
            "mdtrtarea_admvs": inst["admdvs"],
            "insuplc_admdvs": insuplc_admdvs,
            "recer_sys_code": "YBXT",
            "dev_no": "",
            "dev_safe_info": "",
            "cainfo": "",
            "signtype": "MOCK",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "bench01",
            "opter_name": "压测员",
            "inf_time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)),
            "fixmedins_code": inst["code"],
            "fixmedins_name": inst["name"],
            "sign_no": "",
            "input": data,
        }
    )


class Admissions:
    """Persons who must not be admitted now: shared by every virtual client of a run.

    2401 refuses a person who already has an open admission (admitted or discharged but not
    settled). A person is busy while an inpatient flow of this run holds them, stays busy for
    the rest of the run when a flow leaves the admission open (an error after 2401, or a 2305
    reversal, which puts the stay back to "discharged"), and the run starts with the store's
    open admissions (`bench.store.open_admissions`) so that leftovers of earlier runs are
    skipped too."""

    def __init__(self, open_at_start: set[str] | None = None) -> None:
        self.busy: set[str] = set(open_at_start or ())

    def pick(self, rng: random.Random, fixtures: Fixtures) -> dict[str, Any] | None:
        if fixtures.cast is not None:
            # the run's own persons in turn: the next one not in hospital
            for _ in range(len(fixtures.cast.persons)):
                person = fixtures.cast.next()
                if person["psn_no"] not in self.busy:
                    self.busy.add(person["psn_no"])
                    return person
            return None
        free = [p for p in fixtures.persons_for(rng) if p["psn_no"] not in self.busy]
        if not free:
            return None
        person = rng.choice(free)
        self.busy.add(person["psn_no"])
        return person

    def release(self, psn_no: str) -> None:
        self.busy.discard(psn_no)


class Session:
    """One virtual client: a connection, its random stream and the shared recorder."""

    def __init__(
        self,
        conn: RawConnection | HttpxConnection,
        fixtures: Fixtures,
        recorder: Recorder,
        rng: random.Random,
        *,
        reversal_rate: float,
        auth: str = "signature",
        admissions: Admissions | None = None,
        settled: list[tuple[str, float]] | None = None,
    ) -> None:
        self.conn = conn
        self.fx = fixtures
        self.rec = recorder
        self.rng = rng
        self.reversal_rate = reversal_rate
        self.auth = auth
        # A nonce need only be unique within the window: a random prefix per session and a
        # counter (os.urandom per request costs the driver more than the signing itself).
        self._nonce_prefix = os.urandom(8).hex()
        self._nonces = itertools.count()
        self.admissions = admissions if admissions is not None else Admissions()
        #: when given, (setl_id, wall-clock seconds the settling answer arrived) per settlement
        self.settled = settled
        self._visit = 0
        #: the person of the flow in progress's insured region (the envelope's insuplc_admdvs)
        self._insuplc = "110199"

    async def call(
        self, infno: str, inst: Mapping[str, Any], data: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """One interface call; returns `output` (or {}) on infcode 0, None after an error."""
        now = time.time()
        body = envelope(infno, inst, data, now=now, insuplc_admdvs=self._insuplc)
        headers = self._headers(inst["credentials"], now)
        start = time.perf_counter()
        try:
            status, raw = await self.conn.request("POST", PATH, body, headers)
            answer = jsonx.loads(raw) if infno in _EXACT else orjson.loads(raw)
        except (OSError, HttpError, ValueError) as exc:
            self.rec.error(infno, f"{type(exc).__name__}: {exc}")
            return None
        elapsed = time.perf_counter() - start
        if status != 200 or not isinstance(answer, dict) or answer.get("infcode") != 0:
            msg = (
                answer.get("err_msg")
                if isinstance(answer, dict)
                else raw[:200].decode(errors="replace")
            )
            self.rec.error(infno, f"HTTP {status}: {msg}")
            return None
        self.rec.ok(infno, elapsed)
        output = answer.get("output") or {}
        if self.settled is not None and infno in SETTLE_INFNOS:
            setl_id = (output.get("setlinfo") or {}).get("setl_id")
            if setl_id:
                self.settled.append((str(setl_id), time.time()))
        return output

    # ------------------------------------------------------------------ helpers

    def _headers(self, creds: Mapping[str, Any], now: float) -> Mapping[str, str]:
        """The credential headers of one call: static, or signed afresh as a HIS signs each
        request (a timestamp, a nonce, one sha256); fixtures from before the signature
        mode have only the static headers."""
        token = creds.get("paas_token")
        if self.auth == "static" or not token:
            static: Mapping[str, str] = creds["headers"]
            return static
        stamp = str(int(now))
        nonce = f"{self._nonce_prefix}{next(self._nonces):x}"
        return {
            "x-tif-paasid": creds["paasid"],
            "x-tif-timestamp": stamp,
            "x-tif-nonce": nonce,
            "x-tif-signature": sign(stamp, token, nonce),
        }

    def _ids(self, inst: Mapping[str, Any]) -> tuple[str, str]:
        self._visit += 1
        visit_no = f"B{int(time.time() * 1000) % 10**10:010d}{self._visit % 10**6:06d}"
        dr = "D" + inst["code"][1:]
        return visit_no, dr

    def _lines(
        self,
        items: list[dict[str, Any]],
        n: int,
        mdtrt_id: str,
        psn_no: str,
        now: str,
        dr: str,
        extra: Mapping[str, Any],
    ) -> tuple[list[dict[str, Any]], Decimal]:
        lines = []
        total = Decimal("0.00")
        # a bill names each item once (the same item twice at the same time, quantity and
        # price is a duplicate charge the review moves to self-pay)
        chosen = self.rng.sample(items, n) if n <= len(items) else self.rng.choices(items, k=n)
        for sn, item in enumerate(chosen, start=1):
            cnt = Decimal(self.rng.randint(1, 3))
            pric = item["price"]
            amount = round_fen(pric * cnt)
            total += amount
            lines.append(
                {
                    "feedetl_sn": f"{sn}",
                    "mdtrt_id": mdtrt_id,
                    "psn_no": psn_no,
                    "chrg_bchno": "1",
                    "rx_circ_flag": "0",
                    "fee_ocur_time": now,
                    "med_list_codg": item["code"],
                    "medins_list_codg": f"L{item['code']}"[:150],
                    "det_item_fee_sumamt": amount,
                    "cnt": cnt,
                    "pric": pric,
                    "bilg_dept_codg": "D01",
                    "bilg_dept_name": "内科",
                    "bilg_dr_codg": dr,
                    "bilg_dr_name": "张医生",
                    "hosp_appr_flag": "0",  # 非限制使用: the bills hold no restricted item
                    **extra,
                }
            )
        return lines, total

    async def _who(
        self, inst: Mapping[str, Any], person: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        out = await self.call(
            "1101",
            inst,
            {
                "data": {
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": person["certno"],
                    "psn_cert_type": "01",
                    "certno": person["certno"],
                    "psn_name": person["name"],
                }
            },
        )
        return out

    @staticmethod
    def _insutype(who: Mapping[str, Any], person: Mapping[str, Any]) -> str:
        insu = who.get("insuinfo") or []
        return str(insu[0]["insutype"]) if insu else str(person["insutype"])

    @staticmethod
    def _echo(setl: Mapping[str, Any]) -> dict[str, Any]:
        return {
            k: setl.get(k, Decimal("0.00"))
            for k in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
        }

    def _cert(self, person: Mapping[str, Any]) -> dict[str, str]:
        return {"mdtrt_cert_type": "02", "mdtrt_cert_no": person["certno"]}

    # ------------------------------------------------------------------ flows

    async def outpatient(self) -> bool:
        self.rec.play("outpatient")
        inst = self.rng.choice(self.fx.of_kind("hospital", "clinic"))
        person = self.fx.next_person(self.rng)
        self._insuplc = person.get("insuplc_admdvs", "110199")
        who = await self._who(inst, person)
        if who is None:
            return False
        psn_no = who.get("baseinfo", {}).get("psn_no", person["psn_no"])
        insutype = self._insutype(who, person)
        now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        visit_no, dr = self._ids(inst)
        reg = await self.call(
            "2201",
            inst,
            {
                "data": {
                    "psn_no": psn_no,
                    "insutype": insutype,
                    "begntime": now,
                    **self._cert(person),
                    "ipt_otp_no": visit_no,
                    "atddr_no": dr,
                    "dr_name": "张医生",
                    "dept_code": "D01",
                    "dept_name": "内科",
                    "caty": "A03",
                }
            },
        )
        if reg is None:
            return False
        mdtrt_id = str((reg.get("data") or reg).get("mdtrt_id"))
        lines, total = self._lines(self.fx.catalog_items, 10, mdtrt_id, psn_no, now, dr, {})
        if await self.call("2204", inst, {"feedetail": lines}) is None:
            return False
        base = {
            "psn_no": psn_no,
            **self._cert(person),
            "med_type": "11",
            "medfee_sumamt": total,
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "chrg_bchno": "1",
            "acct_used_flag": "1",
            "insutype": insutype,
        }
        pre = await self.call("2206", inst, {"data": base})
        if pre is None:
            return False
        setl = await self.call(
            "2207", inst, {"data": {**base, **self._echo(pre.get("setlinfo", {}))}}
        )
        if setl is None:
            return False
        if self.rng.random() < self.reversal_rate:
            info = setl.get("setlinfo", {})
            await self.call(
                "2208",
                inst,
                {"data": {"setl_id": info.get("setl_id"), "mdtrt_id": mdtrt_id, "psn_no": psn_no}},
            )
        return True

    async def inpatient(self) -> bool:
        person = self.admissions.pick(self.rng, self.fx)
        if person is None:  # everyone is in hospital: do an outpatient visit instead
            return await self.outpatient()
        self.rec.play("inpatient")
        settled, left_open = False, True
        try:
            settled, left_open = await self._stay(person)
        finally:
            if not left_open:
                self.admissions.release(person["psn_no"])
        return settled

    async def _stay(self, person: Mapping[str, Any]) -> tuple[bool, bool]:
        """One inpatient stay: (settled, the person's admission is left open)."""
        inst = self.rng.choice(self.fx.of_kind("hospital"))
        self._insuplc = person.get("insuplc_admdvs", "110199")
        who = await self._who(inst, person)
        if who is None:
            return False, False  # nothing admitted yet
        psn_no = who.get("baseinfo", {}).get("psn_no", person["psn_no"])
        insutype = self._insutype(who, person)
        now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        visit_no, dr = self._ids(inst)
        diag = {
            "psn_no": psn_no,
            "diag_type": "1",
            "maindiag_flag": "1",
            "diag_srt_no": 1,
            "diag_code": "J18.900",
            "diag_name": "肺炎",
            "diag_dept": "内科",
            "dise_dor_no": dr,
            "dise_dor_name": "张医生",
            "diag_time": now,
        }
        adm = await self.call(
            "2401",
            inst,
            {
                "mdtrtinfo": {
                    "psn_no": psn_no,
                    "insutype": insutype,
                    "begntime": now,
                    **self._cert(person),
                    "med_type": "21",
                    "ipt_no": visit_no,
                    "atddr_no": dr,
                    "chfpdr_name": "张医生",
                    "adm_diag_dscr": "肺炎",
                    "adm_dept_codg": "D01",
                    "adm_dept_name": "内科",
                    "adm_bed": "12",
                    "dscg_maindiag_code": "J18.900",
                    "dscg_maindiag_name": "肺炎",
                },
                "diseinfo": [diag],
            },
        )
        if adm is None:
            return False, False
        # from here on, a failed call leaves the admission open
        mdtrt_id = str((adm.get("result") or adm.get("data") or adm).get("mdtrt_id"))
        lines, total = self._lines(
            self.fx.catalog_items, 20, mdtrt_id, psn_no, now, dr, {"med_type": "21"}
        )
        if await self.call("2301", inst, {"feedetail": lines}) is None:
            return False, True
        dscg = {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "insutype": insutype,
                "endtime": now,
                "dscg_dept_codg": "D01",
                "dscg_dept_name": "内科",
                "dscg_way": "1",
            },
            "diseinfo": [{**diag, "mdtrt_id": mdtrt_id}],
        }
        if await self.call("2402", inst, dscg) is None:
            return False, True
        base = {
            "psn_no": psn_no,
            **self._cert(person),
            "medfee_sumamt": total,
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "acct_used_flag": "1",
            "insutype": insutype,
            "mid_setl_flag": "0",
        }
        pre = await self.call("2303", inst, {"data": base})
        if pre is None:
            return False, True
        setl = await self.call(
            "2304", inst, {"data": {**base, **self._echo(pre.get("setlinfo", {}))}}
        )
        if setl is None:
            return False, True
        if self.rng.random() < self.reversal_rate:
            info = setl.get("setlinfo", {})
            reversed_ = await self.call(
                "2305",
                inst,
                {"data": {"setl_id": info.get("setl_id"), "mdtrt_id": mdtrt_id, "psn_no": psn_no}},
            )
            # 2305 puts the stay back to "discharged": the admission is open again
            return True, reversed_ is not None
        return True, False

    async def pharmacy(self) -> bool:
        self.rec.play("pharmacy")
        inst = self.rng.choice(self.fx.of_kind("pharmacy"))
        person = self.fx.next_person(self.rng)
        self._insuplc = person.get("insuplc_admdvs", "110199")
        who = await self._who(inst, person)
        if who is None:
            return False
        psn_no = who.get("baseinfo", {}).get("psn_no", person["psn_no"])
        insutype = self._insutype(who, person)
        now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        _visit_no, dr = self._ids(inst)
        lines, total = self._lines(self.fx.drugs, 4, "", psn_no, now, dr, {})
        for ln in lines:
            for k in ("mdtrt_id", "psn_no", "chrg_bchno", "bilg_dept_codg", "bilg_dept_name"):
                ln.pop(k, None)
        druginfo = {
            "psn_no": psn_no,
            **self._cert(person),
            "begntime": now,
            "medfee_sumamt": total,
            "insutype": insutype,
            "acct_used_flag": "1",
            "med_type": "41",
        }
        pre = await self.call("2101", inst, {"druginfo": druginfo, "drugdetail": lines})
        if pre is None:
            return False
        setl = await self.call("2102", inst, {"druginfo": druginfo, "drugdetail": lines})
        if setl is None:
            return False
        if self.rng.random() < self.reversal_rate:
            info = setl.get("setlinfo", {})
            await self.call(
                "2103",
                inst,
                {
                    "data": {
                        "setl_id": info.get("setl_id"),
                        "mdtrt_id": info.get("mdtrt_id"),
                        "psn_no": psn_no,
                    }
                },
            )
        return True


async def reset_admissions(
    session: Session, visits: list[tuple[str, str, str, str]]
) -> tuple[int, int]:
    """Close the admissions earlier runs left open, through the interface as a HIS would:
    2405 (undo the discharge) where the stay was discharged, then 2404 (cancel the
    admission). `visits`: (mdtrt_id, psn_no, fixmedins_code, mdtrt_stas). Returns (closed,
    failed); every call goes to `session`'s recorder, which the caller keeps apart."""
    by_code = {inst["code"]: inst for inst in session.fx.institutions}
    closed = failed = 0
    for mdtrt_id, psn_no, code, state in visits:
        inst = by_code.get(code)
        if inst is None:  # not one of the bench's institutions: not the bench's to close
            failed += 1
            continue
        ref = {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no}}
        if state == "discharged" and await session.call("2405", inst, ref) is None:
            failed += 1
            continue
        if await session.call("2404", inst, ref) is None:
            failed += 1
            continue
        closed += 1
    return closed, failed
