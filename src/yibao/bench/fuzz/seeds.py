"""Plausible envelopes of every national transaction, in the national field names: the inputs
the fuzz cases start from, so a mutation reaches the readers behind the first checks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any


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
    """The ids the plausible inputs name: a person, a catalog item and open visits.

    The cancellations (2202 a visit, 2404/2405 an admission) name spare visits, so that a
    mutated cancellation that succeeds leaves the visits the other transactions name open;
    the spare admission is a second person's (a person has one open admission at most)."""

    psn_no: str
    certno: str
    insutype: str = "310"
    item_code: str = "001102000010000"
    mdtrt_id: str = "0"
    ipt_mdtrt_id: str = "0"
    setl_id: str = "0"
    spare_mdtrt_id: str = "0"
    spare_psn_no: str | None = None
    spare_certno: str | None = None
    spare_ipt_mdtrt_id: str = "0"


def seed_inputs(
    ids: SeedIds, *, now: datetime, fixmedins_code: str = ""
) -> dict[str, dict[str, Any]]:
    """A plausible `input` for each transaction, in the national field names, naming `ids`
    (and the calling institution where an input names it)."""
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

    def settle(mdtrt_id: str, med_type: str, total: Decimal) -> dict[str, Any]:
        return {
            "data": {
                **person,
                "med_type": med_type,
                "medfee_sumamt": total,
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
    spare_stay = (
        {"mdtrt_id": ids.spare_ipt_mdtrt_id, "psn_no": ids.spare_psn_no}
        if ids.spare_psn_no
        else stay
    )
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
        "2202": {"data": {**visit, "mdtrt_id": ids.spare_mdtrt_id, "ipt_otp_no": "OTP0001"}},
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
        "2205": {"data": {**visit, "mdtrt_id": ids.spare_mdtrt_id, "chrg_bchno": "CB0001"}},
        # the sums of the lines `open_visits` uploads (2204: two, 2301: one, 10.00 each)
        "2206": settle(ids.mdtrt_id, "11", Decimal("20.00")),
        "2207": settle(ids.mdtrt_id, "11", Decimal("20.00")),
        "2208": {"data": {**visit, "setl_id": ids.setl_id}},
        "2301": {"feedetail": [line("1", ids.ipt_mdtrt_id)]},
        "2302": {"data": {**stay, "feedetl_sn": "2"}},
        "2303": settle(ids.ipt_mdtrt_id, "21", Decimal("10.00")),
        "2304": settle(ids.ipt_mdtrt_id, "21", Decimal("10.00")),
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
        "2404": {"data": spare_stay},
        "2405": {"data": spare_stay},
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
                "fixmedins_code": fixmedins_code,
                "fixmedins_hilist_id": "L-0001",
                "list_type": "201",
                "med_list_codg": ids.item_code,
            }
        },
        # 自费病人 in the camelCase shape public client code sends (docs/interface/selfpay.md)
        "4261": {
            "fmiOwnpayPatnMdtrtDDTO": {
                "mdtrtId": "ZF0001",
                "fixmedinsCode": fixmedins_code,
                "psnCertType": "01",
                "certno": ids.certno,
                "psnName": "张三",
                "begntime": d,
                "medType": "11",
            },
            "fmiOwnpayPatnDiseListDDTOS": [
                {"diagSrtNo": 0, "diagCode": "J00", "diagName": "急性鼻咽炎", "maindiagFlag": "1"}
            ],
            "fmiOwnpayPatnFeeListDDTO": [
                {
                    "bkkpSn": "1",
                    "feeOcurTime": t,
                    "medinsListCodg": "L-0001",
                    "cnt": Decimal("1"),
                    "pric": Decimal("10.00"),
                    "detItemFeeSumamt": Decimal("10.00"),
                }
            ],
            "upType": "1",
        },
        "4262": {
            "mdtrtId": "ZF0001",
            "fixmedinsCode": fixmedins_code,
            "totalFeeSumamt": Decimal("10.00"),
        },
        "4263": {
            "fixmedinsCode": fixmedins_code,
            "certno": ids.certno,
            "pageNum": 1,
            "pageSize": 10,
        },
        "5201": {"data": {"psn_no": ids.psn_no, "begntime": t, "endtime": t, "med_type": "11"}},
        "5203": {"data": {"psn_no": ids.psn_no, "setl_id": ids.setl_id, "mdtrt_id": "0"}},
        "5204": {"data": {**visit, "setl_id": ids.setl_id}},
        "9001": {"signIn": {"opter_no": "0001", "mac": "00-11-22-33-44-55", "ip": "10.0.0.8"}},
        "9002": {"signOut": {"sign_no": "1", "opter_no": "0001"}},
        "9101": {
            "fsUploadIn": {"in": "UEsDBA==", "filename": "a.zip", "fixmedins_code": fixmedins_code}
        },
        "9102": {
            "fsDownloadIn": {
                "file_qury_no": "1",
                "filename": "a.zip",
                "fixmedins_code": fixmedins_code,
            }
        },
    }
    for infno in ("1301", "1302", "1303", "1305", "1306", "1307", "1308", "1309", "1310"):
        seeds[infno] = {"data": {"ver": "0"}}
    for infno in ("1311", "1313", "1314", "1315", "1320", "1321"):
        seeds[infno] = {"data": {"ver": "0"}}
    return seeds


def envelope(
    caller: Caller, infno: str, input_: Any, *, msgid: str, at: datetime
) -> dict[str, Any]:
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
