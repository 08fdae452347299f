"""参保人: insured persons, their insurance (psn_insu) and assistance identities (psn_idet).

Rules:
- `psn_no` is generated when not given: the first insurance's region (6 digits) followed by a
  19-digit `kit.ids` id (25 digits); a given `psn_no` is 1–30 letters or digits.
- For a 居民身份证 (`psn_cert_type` "01") the certno passes GB 11643 (check digit, birth date,
  province), `brdy` and `gend` are taken from it when absent and must agree with it when given.
  A lower-case x is stored as X.
- One person per (psn_cert_type, certno); `card_no` and `ec_token` are unique.
- Insurance: `insutype` and `psn_type` from the national dictionaries; an employee insurance
  (310/320/330/340/370) takes an employee or retiree psn_type (11xx, 12xx, 1300), a resident
  insurance (380/390/391/392) a resident one (14xx, 15xx). Status 1 正常, 2 暂停, 4 终止;
  a terminated insurance does not come back (register it again after a new enrolment date).
- The date of death (`death_date`, 死亡日期) is recorded, corrected or cleared on its own
  (`record_death`, audited as `psn.death`): not before the birth date, not in the future.
- Personal data never appears unmasked in errors or audit rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection

from yibao.codes import validators
from yibao.codes.dicts import Gend, Insutype, PsnCertType, PsnInsuStas, PsnType
from yibao.codes.validators import CodeKind
from yibao.enrolment import audit, checks, feed
from yibao.enrolment.institutions import UNSET, Unset
from yibao.enrolment.masking import mask_certno, mask_person, mask_tail
from yibao.enrolment.repo import identities as identity_repo
from yibao.enrolment.repo import insurance as insurance_repo
from yibao.enrolment.repo import persons as repo
from yibao.enrolment.scope import AGENCY, Scope
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator

EMPLOYEE_INSUTYPES = frozenset({"310", "320", "330", "340", "370"})
RESIDENT_INSUTYPES = frozenset({"380", "390", "391", "392"})

#: the person's own columns returned by `get_person`
PERSON_FIELDS = (
    "psn_no",
    "psn_cert_type",
    "certno",
    "psn_name",
    "gend",
    "naty",
    "brdy",
    "tel",
    "card_no",
    "card_sn",
    "ec_token",
    "family_id",
    "death_date",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class Insurance:
    """One insurance to enrol a person in (a `psn_insu` row)."""

    insutype: str
    psn_type: str
    insuplc_admdvs: str
    psn_insu_date: date | None = None
    psn_insu_stas: str = "1"
    cvlserv_flag: str = "0"
    emp_name: str | None = None


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------


def person_row(conn: Connection, psn_no: str, *, scope: Scope = AGENCY) -> dict[str, Any]:
    """The person's own columns; NotFound when absent or outside `scope`."""
    row = repo.get(conn, psn_no, scope=scope)
    if row is None:
        raise NotFound(f"psn_no: 人员不存在 '{psn_no}' (no such person)")
    return row


def get_person(conn: Connection, *, psn_no: str, scope: Scope = AGENCY) -> dict[str, Any]:
    """The person (unmasked: mask at the edge) with `insurance` and `identities` lists."""
    row = person_row(conn, psn_no, scope=scope)
    row["insurance"] = insurance_repo.of_person(conn, psn_no)
    row["identities"] = identity_repo.of_person(conn, psn_no)
    return row


def find_persons(
    conn: Connection,
    *,
    certno: str | None = None,
    card_no: str | None = None,
    family_id: str | None = None,
    insutype: str | None = None,
    insuplc_admdvs: str | None = None,
    limit: int = 100,
    offset: int = 0,
    scope: Scope = AGENCY,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, page) of persons within `scope` (their own columns), ordered by psn_no."""
    return repo.page(
        conn,
        scope=scope,
        certno=certno.upper() if certno else None,
        card_no=card_no,
        family_id=family_id,
        insutype=insutype,
        insuplc_admdvs=insuplc_admdvs,
        limit=limit,
        offset=offset,
    )


# ---------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------


def _check_identity(
    *, psn_cert_type: str, certno: str, gend: str | None, brdy: date | None
) -> tuple[str, str, str, date]:
    cert_type = checks.dict_value(PsnCertType, psn_cert_type, field="psn_cert_type")
    if cert_type is PsnCertType.ID_CARD:
        checks.code(CodeKind.CERTNO, certno, field="certno")
        number = certno.upper()
        born = validators.certno_birth_date(number)
        sex = validators.certno_gend(number)
        if brdy is not None and brdy != born:
            raise InvalidInput(
                f"brdy: 出生日期 {brdy.isoformat()} 与身份证号码不符 "
                f"(does not agree with the birth date in certno)"
            )
        if gend is not None and gend != sex.value:
            raise InvalidInput(
                f"gend: 性别 '{gend}' 与身份证号码不符, 应为 '{sex.value}' {sex.label} "
                "(does not agree with certno)"
            )
        return cert_type.value, number, sex.value, born
    number = checks.req_text(certno, field="certno", max_len=50)
    if gend is None:
        raise InvalidInput("gend: 非居民身份证须填写性别 (required unless psn_cert_type is 01)")
    if brdy is None:
        raise InvalidInput("brdy: 非居民身份证须填写出生日期 (required unless psn_cert_type is 01)")
    sex_ = checks.dict_value(Gend, gend, field="gend")
    return cert_type.value, number, sex_.value, brdy


def _check_unique(
    conn: Connection,
    field: Literal["card_no", "ec_token"],
    value: str | None,
    *,
    shown: str | None,
    psn_no: str | None = None,
) -> None:
    if value is None:
        return
    if repo.taken(conn, field, value, other_than=psn_no):
        raise Conflict(f"{field}: 已登记给其他人员 '{shown}' (already registered to a person)")


def check_insurance(item: Insurance, *, field: str, brdy: date, today: date) -> dict[str, Any]:
    insutype = checks.dict_value(Insutype, item.insutype, field=f"{field}.insutype")
    psn_type = checks.dict_value(PsnType, item.psn_type, field=f"{field}.psn_type")
    if insutype.value in EMPLOYEE_INSUTYPES and psn_type.value[:2] not in ("11", "12", "13"):
        raise InvalidInput(
            f"{field}.psn_type: 职工险种须为职工或退休人员类别 '{psn_type.value}' {psn_type.label} "
            "(an employee insurance needs an employee or retiree psn_type)"
        )
    if insutype.value in RESIDENT_INSUTYPES and psn_type.value[:2] not in ("14", "15"):
        raise InvalidInput(
            f"{field}.psn_type: 居民险种须为居民人员类别 '{psn_type.value}' {psn_type.label} "
            "(a resident insurance needs a resident psn_type)"
        )
    region = checks.admdvs(item.insuplc_admdvs, field=f"{field}.insuplc_admdvs")
    status = checks.dict_value(PsnInsuStas, item.psn_insu_stas, field=f"{field}.psn_insu_stas")
    since = item.psn_insu_date or today
    if since < brdy:
        raise InvalidInput(
            f"{field}.psn_insu_date: 参保日期早于出生日期 (the enrolment date is before birth)"
        )
    return {
        "insutype": insutype.value,
        "psn_type": psn_type.value,
        "psn_insu_stas": status.value,
        "psn_insu_date": since,
        "paus_insu_date": None if status is PsnInsuStas.NORMAL else today,
        "cvlserv_flag": checks.flag(item.cvlserv_flag, field=f"{field}.cvlserv_flag"),
        "insuplc_admdvs": region,
        "emp_name": checks.text(
            item.emp_name, field=f"{field}.emp_name", max_len=200, required=False
        ),
    }


# ---------------------------------------------------------------------------------------------
# persons
# ---------------------------------------------------------------------------------------------


def register_person(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    certno: str,
    psn_name: str,
    psn_no: str | None = None,
    psn_cert_type: str = "01",
    gend: str | None = None,
    brdy: date | None = None,
    naty: str = "01",
    tel: str | None = None,
    card_no: str | None = None,
    card_sn: str | None = None,
    ec_token: str | None = None,
    family_id: str | None = None,
    insurance: Sequence[Insurance] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    moment = now or local_naive_now()
    if psn_no is not None:
        psn_no = checks.code(CodeKind.PSN_NO, psn_no, field="psn_no")
    cert_type, number, sex, born = _check_identity(
        psn_cert_type=psn_cert_type, certno=certno, gend=gend, brdy=brdy
    )
    name = checks.req_text(psn_name, field="psn_name", max_len=50)
    naty_ = checks.req_text(naty, field="naty", max_len=3)
    if not naty_.isdigit():
        raise InvalidInput(f"naty: 民族代码须为数字 (GB 3304, e.g. '01'): '{naty_}'")
    tel_ = checks.text(tel, field="tel", max_len=50, required=False)
    card = checks.text(card_no, field="card_no", max_len=50, required=False)
    card_serial = checks.text(card_sn, field="card_sn", max_len=50, required=False)
    if card_serial and not card:
        raise InvalidInput("card_sn: 有卡识别码须同时填写社保卡号 card_no (card_sn needs card_no)")
    token = checks.text(ec_token, field="ec_token", max_len=64, required=False)
    family = checks.text(family_id, field="family_id", max_len=30, required=False)
    insu_rows = []
    seen: set[str] = set()
    for i, item in enumerate(insurance):
        values = check_insurance(item, field=f"insurance[{i}]", brdy=born, today=moment.date())
        if values["insutype"] in seen:
            raise InvalidInput(
                f"insurance[{i}].insutype: 险种重复 '{values['insutype']}' (listed twice)"
            )
        seen.add(values["insutype"])
        insu_rows.append(values)

    if psn_no is None:
        region = insu_rows[0]["insuplc_admdvs"] if insu_rows else ""
        psn_no = f"{region}{ids.next_id():019d}"
    elif repo.exists(conn, psn_no):
        raise Conflict(f"psn_no: 人员编号已存在 '{psn_no}' (already registered)")
    # Say only that the person exists: naming the holder's psn_no would hand a caller who
    # knows a certno the person's key to every other record (issue 17).
    if repo.holder_of_certificate(conn, cert_type, number) is not None:
        raise Conflict(
            f"certno: 证件号码已登记, 该人员已存在 '{mask_certno(number)}' "
            "(a person with this certificate is already registered)"
        )
    _check_unique(conn, "card_no", card, shown=mask_tail(card))
    _check_unique(conn, "ec_token", token, shown=mask_tail(token))

    person = {
        "psn_no": psn_no,
        "psn_cert_type": cert_type,
        "certno": number,
        "psn_name": name,
        "gend": sex,
        "naty": naty_,
        "brdy": born,
        "tel": tel_,
        "card_no": card,
        "card_sn": card_serial,
        "ec_token": token,
        "family_id": family,
        "created_at": moment,
        "updated_at": moment,
    }
    repo.insert_person(conn, person)
    for values in insu_rows:
        insurance_repo.insert_insurance(conn, psn_no, values, at=moment)
    detail = mask_person({k: v for k, v in person.items() if k not in ("created_at", "updated_at")})
    detail["insurance"] = [
        {k: r[k] for k in ("insutype", "psn_type", "psn_insu_stas", "insuplc_admdvs")}
        for r in insu_rows
    ]
    audit.record(
        conn, ids=ids, actor=actor, action="psn.register", target=psn_no, detail=detail, at=moment
    )
    feed.person_changed(conn, psn_no, now=moment)
    return get_person(conn, psn_no=psn_no)


def change_person(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    psn_no: str,
    psn_name: str | None = None,
    naty: str | None = None,
    tel: str | Unset | None = UNSET,
    card_no: str | Unset | None = UNSET,
    card_sn: str | Unset | None = UNSET,
    ec_token: str | Unset | None = UNSET,
    family_id: str | Unset | None = UNSET,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Change the given fields. The certificate (type and number), sex and birth date are the
    person's identity and do not change here."""
    row = person_row(conn, psn_no)
    changes: dict[str, Any] = {}
    if psn_name is not None:
        changes["psn_name"] = checks.req_text(psn_name, field="psn_name", max_len=50)
    if naty is not None:
        value = checks.req_text(naty, field="naty", max_len=3)
        if not value.isdigit():
            raise InvalidInput(f"naty: 民族代码须为数字 (GB 3304, e.g. '01'): '{value}'")
        changes["naty"] = value
    limits = {"tel": 50, "card_no": 50, "card_sn": 50, "ec_token": 64, "family_id": 30}
    given = {
        "tel": tel,
        "card_no": card_no,
        "card_sn": card_sn,
        "ec_token": ec_token,
        "family_id": family_id,
    }
    for field, given_value in given.items():
        if not isinstance(given_value, Unset):
            changes[field] = checks.text(
                given_value, field=field, max_len=limits[field], required=False
            )
    if changes.get("card_sn", row["card_sn"]) and not changes.get("card_no", row["card_no"]):
        raise InvalidInput("card_sn: 有卡识别码须同时有社保卡号 card_no (card_sn needs card_no)")
    changes = {k: v for k, v in changes.items() if row[k] != v}
    if "card_no" in changes:
        _check_unique(
            conn,
            "card_no",
            changes["card_no"],
            shown=mask_tail(changes["card_no"]),
            psn_no=psn_no,
        )
    if "ec_token" in changes:
        _check_unique(
            conn,
            "ec_token",
            changes["ec_token"],
            shown=mask_tail(changes["ec_token"]),
            psn_no=psn_no,
        )
    if not changes:
        return get_person(conn, psn_no=psn_no)
    moment = now or local_naive_now()
    repo.update_person(conn, psn_no, changes, updated_at=moment)
    before = mask_person({k: row[k] for k in changes})
    after = mask_person(changes)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="psn.change",
        target=psn_no,
        detail={k: {"from": before[k], "to": after[k]} for k in changes},
        at=moment,
    )
    feed.person_changed(conn, psn_no, now=moment)
    return get_person(conn, psn_no=psn_no)


def record_death(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    psn_no: str,
    death_date: date | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record the person's date of death (死亡日期), correct it, or clear it (None: recorded
    in error). Not before the birth date, not after today. Audited as `psn.death` with the
    dates before and after; unchanged answers the person without writing."""
    row = person_row(conn, psn_no)
    moment = now or local_naive_now()
    if death_date is not None:
        if death_date > moment.date():
            raise InvalidInput(
                f"death_date: 死亡日期不能晚于今天 (cannot be in the future): {death_date}"
            )
        if death_date < row["brdy"]:
            raise InvalidInput(
                "death_date: 死亡日期不能早于出生日期 (cannot be before the birth date)"
            )
    if row["death_date"] == death_date:
        return get_person(conn, psn_no=psn_no)
    repo.update_person(conn, psn_no, {"death_date": death_date}, updated_at=moment)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="psn.death",
        target=psn_no,
        detail={
            "death_date": {
                "from": row["death_date"].isoformat() if row["death_date"] else None,
                "to": death_date.isoformat() if death_date else None,
            }
        },
        at=moment,
    )
    feed.person_changed(conn, psn_no, now=moment)
    return get_person(conn, psn_no=psn_no)
