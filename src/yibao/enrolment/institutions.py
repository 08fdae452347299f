"""定点医药机构: register, change, list and get institutions.

Rules:
- `fixmedins_code` is `^[HP]\\d{11}$` with a valid admdvs in characters 2–7
  (`codes.validators`); H is a medical institution (hospital, clinic), P a retail pharmacy.
- The code's region lies in the institution's province: its first two digits equal the
  first two of `admdvs`.
- `hosp_lv` is 1, 2 or 3 for hospitals and clinics, 0 for pharmacies.
- `parent_code` names a chain: a pharmacy store's parent is a pharmacy (the chain), a
  hospital's or clinic's parent is a hospital or clinic (a group). No cycles.
- The code and the kind never change; deactivate with `vali_flag` "0".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection

from yibao.codes.dicts import HospLv, InstitutionKind
from yibao.codes.validators import CodeKind
from yibao.enrolment import audit, checks, feed
from yibao.enrolment.repo import credentials as credential_repo
from yibao.enrolment.repo import institutions as repo
from yibao.enrolment.scope import AGENCY, Scope
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator


class Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: "not given" for optional changes where None means "clear"
UNSET: Final = Unset()


def _row(conn: Connection, code: str) -> dict[str, Any] | None:
    # Codes are unique platform-wide, and a chain may span tenants: checks look at every row.
    return repo.get(conn, code, scope=AGENCY)


def get_institution(
    conn: Connection, *, fixmedins_code: str, scope: Scope = AGENCY
) -> dict[str, Any]:
    """The institution with its stores/members and its active credential count; NotFound
    when it does not exist or lies outside `scope`."""
    row = repo.get(conn, fixmedins_code, scope=scope)
    if row is None:
        raise NotFound(f"fixmedins_code: 机构不存在 '{fixmedins_code}' (no such institution)")
    row["children"] = repo.children(conn, fixmedins_code, scope=scope)
    row["active_credentials"] = repo.count_active_credentials(conn, fixmedins_code)
    return row


def list_institutions(
    conn: Connection,
    *,
    kind: str | None = None,
    admdvs: str | None = None,
    parent_code: str | None = None,
    q: str | None = None,
    vali_flag: str | None = None,
    limit: int = 100,
    offset: int = 0,
    scope: Scope = AGENCY,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, page) within `scope`, ordered by code; `q` matches the code or the name. Each
    row carries its `children` (within `scope`) and `active_credentials`, like one fetched
    alone."""
    total, rows = repo.page(
        conn,
        scope=scope,
        kind=kind,
        admdvs=admdvs,
        parent_code=parent_code,
        q=q,
        vali_flag=vali_flag,
        limit=limit,
        offset=offset,
    )
    codes = [r["fixmedins_code"] for r in rows]
    children = repo.children_of(conn, codes, scope=scope)
    counts = repo.active_credential_counts(conn, codes)
    for row in rows:
        row["children"] = children[row["fixmedins_code"]]
        row["active_credentials"] = counts[row["fixmedins_code"]]
    return total, rows


def _check_level(kind: InstitutionKind, hosp_lv: str) -> str:
    lv = checks.dict_value(HospLv, hosp_lv, field="hosp_lv")
    if kind is InstitutionKind.PHARMACY and lv is not HospLv.NONE:
        raise InvalidInput("hosp_lv: 药店等级须为 0 (a pharmacy's level must be '0')")
    if kind is not InstitutionKind.PHARMACY and lv is HospLv.NONE:
        raise InvalidInput(
            "hosp_lv: 医疗机构等级须为 1、2 或 3 (a hospital's or clinic's level must be 1, 2 or 3)"
        )
    return lv.value


def _check_parent(
    conn: Connection, *, code: str, kind: InstitutionKind, parent_code: str | None
) -> str | None:
    if parent_code is None:
        return None
    if parent_code == code:
        raise InvalidInput(
            "parent_code: 不能以自身为上级 (an institution cannot be its own parent)"
        )
    parent = _row(conn, parent_code)
    if parent is None:
        raise InvalidInput(f"parent_code: 上级机构不存在 '{parent_code}' (no such institution)")
    parent_is_pharmacy = parent["kind"] == InstitutionKind.PHARMACY.value
    if (kind is InstitutionKind.PHARMACY) != parent_is_pharmacy:
        raise InvalidInput(
            "parent_code: 药店只能隶属于药店连锁, 医疗机构只能隶属于医疗机构 "
            "(a pharmacy's parent must be a pharmacy chain; a hospital's a hospital or clinic)"
        )
    # Walk up from the parent: meeting `code` again would close a cycle.
    seen = {code}
    current: str | None = parent_code
    while current is not None:
        if current in seen:
            raise InvalidInput(
                f"parent_code: 隶属关系成环 '{parent_code}' (the parent chain would form a cycle)"
            )
        seen.add(current)
        current = repo.parent_of(conn, current)
    return parent_code


def register_institution(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    fixmedins_code: str,
    fixmedins_name: str,
    kind: str,
    hosp_lv: str,
    admdvs: str,
    parent_code: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    code = checks.code(CodeKind.FIXMEDINS_CODE, fixmedins_code, field="fixmedins_code")
    name = checks.req_text(fixmedins_name, field="fixmedins_name", max_len=200)
    kind_ = checks.dict_value(InstitutionKind, kind, field="kind")
    if (code[0] == "P") != (kind_ is InstitutionKind.PHARMACY):
        raise InvalidInput(
            f"fixmedins_code: 药店编码以 P 开头, 医疗机构以 H 开头 '{code}' "
            "(pharmacies have P codes, hospitals and clinics H codes)"
        )
    region = checks.admdvs(admdvs, field="admdvs")
    if code[1:3] != region[:2]:
        raise InvalidInput(
            f"admdvs: 医保区划 '{region}' 与机构编码中的区划 '{code[1:7]}' 不在同一省 "
            "(the institution's admdvs must be in the province of its code)"
        )
    level = _check_level(kind_, hosp_lv)
    if _row(conn, code) is not None:
        raise Conflict(f"fixmedins_code: 机构已存在 '{code}' (already registered)")
    parent = _check_parent(conn, code=code, kind=kind_, parent_code=parent_code or None)
    moment = now or local_naive_now()
    values = {
        "fixmedins_code": code,
        "fixmedins_name": name,
        "kind": kind_.value,
        "hosp_lv": level,
        "admdvs": region,
        "parent_code": parent,
        "vali_flag": "1",
        "created_at": moment,
        "updated_at": moment,
    }
    repo.insert_institution(conn, values)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="fixmedins.register",
        target=code,
        detail={k: v for k, v in values.items() if k not in ("created_at", "updated_at")},
        at=moment,
    )
    feed.institution_changed(conn, code)
    return get_institution(conn, fixmedins_code=code)


def change_institution(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    fixmedins_code: str,
    fixmedins_name: str | None = None,
    hosp_lv: str | None = None,
    admdvs: str | None = None,
    parent_code: str | Unset | None = UNSET,
    vali_flag: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Change the given fields (None = unchanged; `parent_code=None` detaches from a chain)."""
    row = _row(conn, fixmedins_code)
    if row is None:
        raise NotFound(f"fixmedins_code: 机构不存在 '{fixmedins_code}' (no such institution)")
    kind_ = InstitutionKind(row["kind"])
    changes: dict[str, Any] = {}
    if fixmedins_name is not None:
        changes["fixmedins_name"] = checks.req_text(
            fixmedins_name, field="fixmedins_name", max_len=200
        )
    if hosp_lv is not None:
        changes["hosp_lv"] = _check_level(kind_, hosp_lv)
    if admdvs is not None:
        region = checks.admdvs(admdvs, field="admdvs")
        if fixmedins_code[1:3] != region[:2]:
            raise InvalidInput(
                f"admdvs: 医保区划 '{region}' 与机构编码中的区划不在同一省 "
                "(the institution's admdvs must be in the province of its code)"
            )
        changes["admdvs"] = region
    if not isinstance(parent_code, Unset):
        changes["parent_code"] = _check_parent(
            conn, code=fixmedins_code, kind=kind_, parent_code=parent_code or None
        )
    if vali_flag is not None:
        changes["vali_flag"] = checks.flag(vali_flag, field="vali_flag")
    changes = {k: v for k, v in changes.items() if row[k] != v}
    if not changes:
        return get_institution(conn, fixmedins_code=fixmedins_code)
    moment = now or local_naive_now()
    repo.update_institution(conn, fixmedins_code, changes, updated_at=moment)
    if "vali_flag" in changes:
        # the gateway's credential caches hold the institution: every process reloads at once
        credential_repo.bump_generation(conn)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="fixmedins.change",
        target=fixmedins_code,
        detail={k: {"from": row[k], "to": v} for k, v in changes.items()},
        at=moment,
    )
    feed.institution_changed(conn, fixmedins_code)
    return get_institution(conn, fixmedins_code=fixmedins_code)
