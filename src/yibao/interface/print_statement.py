"""The printable settlement statement (`GET /print/settlements/{setl_id}`): who may open it
and what it shows.

- An institution opens it with the signed token of the `print_url` its 5265 answer carried
  (`settlement.print_token`: HMAC over setl_id + fixmedins_code + expiry, key in the data
  directory); the token shows only that institution's own settlement.
- A signed-in agency console user may open any settlement's statement (`scope_of`: the agency).

The page shows personal data masked as the console does (`enrolment.masking`): the name keeps
its surname, the certificate number its first and last two characters. Amounts stay `Decimal`;
the edge renders them with two decimals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from yibao.codes.dicts import (
    ClrType,
    FundPayType,
    Gend,
    HospLv,
    Insutype,
    MdtrtCertType,
    MedType,
    PsnCertType,
    PsnType,
)
from yibao.enrolment.masking import mask_birth_date, mask_certno, mask_name
from yibao.errors import Forbidden, NotFound
from yibao.interface.console.auth import User, scope_of
from yibao.kit import clock
from yibao.runtime import Platform
from yibao.settlement import print_token, statement

__all__ = ["PATH", "print_url", "statement_for_token", "statement_for_user"]

#: where the page is served (`api.print_pages`)
PATH = "/print/settlements/{setl_id}"


def _unix(at: datetime) -> int:
    """Unix seconds of a naive platform-zone time (as `CallContext.now` is)."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=clock.zone())
    return int(aware.timestamp())


def print_url(platform: Platform, *, setl_id: str, fixmedins_code: str, at: datetime) -> str:
    """The page's path with a token valid for `print_token.TTL_SECONDS` from `at`. A path, not
    a full URL: the HIS already knows the address it reaches yibao at."""
    token = print_token.issue(
        platform.settings.data_dir,
        setl_id=setl_id,
        fixmedins_code=fixmedins_code,
        now_unix=_unix(at),
    )
    return PATH.format(setl_id=quote(setl_id, safe="")) + f"?token={quote(token, safe='')}"


def _label(kind: Any, code: Any) -> str | None:
    if code is None:
        return None
    return str(kind(code).label) if kind.has(code) else None


def _page_view(data: dict[str, Any]) -> dict[str, Any]:
    """The statement as the page shows it: personal data masked, codes with their labels."""
    info = dict(data["setlinfo"])
    info["psn_name"] = mask_name(info.get("psn_name"))
    info["certno"] = mask_certno(info.get("certno"))
    if "brdy" in info:
        info["brdy"] = mask_birth_date(info.get("brdy"))
    labels = {
        "insutype_name": _label(Insutype, info.get("insutype")),
        "psn_type_name": _label(PsnType, info.get("psn_type")),
        "gend_name": _label(Gend, info.get("gend")),
        "med_type_name": _label(MedType, info.get("med_type")),
        "psn_cert_type_name": _label(PsnCertType, info.get("psn_cert_type")),
        "mdtrt_cert_type_name": _label(MdtrtCertType, info.get("mdtrt_cert_type")),
        "clr_type_name": _label(ClrType, info.get("clr_type")),
        "hosp_lv_name": _label(HospLv, info.get("hosp_lv")),
    }
    details = [
        {
            **d,
            "fund_pay_type_name": d.get("fund_pay_type_name")
            or _label(FundPayType, d["fund_pay_type"]),
        }
        for d in data["setldetail"]
    ]
    return {
        "setlinfo": info,
        "labels": labels,
        "setldetail": details,
        "mdtrtinfo": data.get("mdtrtinfo"),
        "feeinfo": data["feeinfo"],
    }


def statement_for_token(platform: Platform, setl_id: str, token: str) -> dict[str, Any]:
    """The page's data for the holder of a 5265 link; Forbidden for a token that is not
    genuine, names another settlement or has expired."""
    grant = print_token.check(
        platform.settings.data_dir, token, setl_id=setl_id, now_unix=_unix(clock.now())
    )
    if grant is None:
        raise Forbidden(
            "打印链接无效或已过期, 请重新调用 5265 获取 (the print link is not valid or has "
            "expired: call 5265 again for a new one)"
        )
    with platform.db.read() as conn:
        data = statement.statement_of(conn, setl_id, fixmedins_code=grant.fixmedins_code)
    return _page_view(data)


def statement_for_user(platform: Platform, setl_id: str, user: User) -> dict[str, Any]:
    """The page's data for a signed-in console user (the agency sees every settlement)."""
    scope = scope_of(user)
    with platform.db.read() as conn:
        data = statement.statement_of(conn, setl_id, fixmedins_code=None)
    codes = scope.fixmedins_codes
    if codes is not None and data["setlinfo"]["fixmedins_code"] not in codes:
        # Another tenant's settlement is answered like a missing one (ids cannot be probed).
        raise NotFound(f"结算记录不存在 '{setl_id}' (no such settlement)")
    return _page_view(data)
