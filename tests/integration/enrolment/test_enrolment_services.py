"""Enrolment services on the migrated schema (SQLite, and MariaDB under `mysql`): they write
audit rows and change-log payloads in the caller's transaction and never commit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Connection, Engine, func, select

from yibao.enrolment import credentials, institutions, insurance, personal_accounts, persons
from yibao.enrolment.masking import mask_certno, mask_name, mask_person, mask_phone, mask_tail
from yibao.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from yibao.kit.ids import IdGenerator
from yibao.storage import changelog
from yibao.storage.tables import audit_log, change_log, fixmedins, psn, psn_insu
from yibao.storage.uow import UnitOfWork, run_transaction

IDS = IdGenerator(3)
NOW = datetime(2024, 5, 20, 10, 0, 0)
CERTNO = "110101199003074514"


def _count(conn: Connection, table) -> int:  # type: ignore[no-untyped-def]
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _hospital(conn: Connection, code: str = "H11010200001", **extra: object) -> dict:
    values = {
        "fixmedins_code": code,
        "fixmedins_name": "示例医院",
        "kind": "hospital",
        "hosp_lv": "2",
        "admdvs": "110199",
    }
    values.update(extra)
    return institutions.register_institution(conn, ids=IDS, actor="t", now=NOW, **values)  # type: ignore[arg-type]


def _person(conn: Connection, **extra: object) -> dict:
    values: dict[str, object] = {
        "certno": CERTNO,
        "psn_name": "张三丰",
        "insurance": [persons.Insurance("310", "1101", "110199", psn_insu_date=date(2020, 1, 1))],
    }
    values.update(extra)
    return persons.register_person(conn, ids=IDS, actor="t", now=NOW, **values)  # type: ignore[arg-type]


def test_services_never_commit(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        _hospital(uow.conn)
        _person(uow.conn)
        assert _count(uow.conn, psn) == 1
    with engine.connect() as conn:
        assert _count(conn, fixmedins) == 0
        assert _count(conn, psn) == 0
        assert _count(conn, audit_log) == 0
        assert _count(conn, change_log) == 0


def test_register_writes_row_audit_and_payload_in_one_transaction(engine: Engine) -> None:
    run_transaction(engine, _hospital)
    person = run_transaction(engine, _person)
    with engine.connect() as conn:
        logged = changelog.read_after(conn, 0, 10)
        actions = (
            conn.execute(select(audit_log.c.action).order_by(audit_log.c.action)).scalars().all()
        )
    assert actions == ["fixmedins.register", "psn.register"]
    assert [(r["entity"], r["entity_key"]) for r in logged] == [
        ("fixmedins", "H11010200001"),
        ("psn", person["psn_no"]),
    ]
    payload = changelog.decode(logged[1]["payload"])
    assert payload == {
        "psn_no": person["psn_no"],
        "gend": "1",
        "birth_year": 1990,
        "insutype": "310",
        "psn_type": "1101",
        "psn_insu_stas": "1",
        "insuplc_admdvs": "110199",
        "assistance": False,
        "death_date": None,
    }


def test_credit_adds_to_the_balance_each_time(engine: Engine) -> None:
    psn_no = run_transaction(engine, _person)["psn_no"]
    for amount in ("100.00", "0.01", 5):
        run_transaction(
            engine,
            lambda conn, a=amount: personal_accounts.credit_account(
                conn, ids=IDS, actor="t", psn_no=psn_no, amount=a, reason="划入"
            ),
        )
    with engine.connect() as conn:
        assert conn.execute(select(psn_insu.c.balc)).scalar_one() == Decimal("105.01")
        assert _count(conn, audit_log) == 4  # register + three credits


def test_credit_refuses_a_float_and_a_terminated_insurance(engine: Engine) -> None:
    psn_no = run_transaction(engine, _person)["psn_no"]
    with UnitOfWork(engine) as uow:
        with pytest.raises(InvalidInput, match="amount"):
            personal_accounts.credit_account(
                uow.conn, ids=IDS, actor="t", psn_no=psn_no, amount=1.5, reason="x"
            )
        insurance.set_insurance_status(
            uow.conn,
            ids=IDS,
            actor="t",
            psn_no=psn_no,
            insutype="310",
            action="terminate",
            on=date(2024, 1, 1),
        )
        with pytest.raises(Conflict, match="终止"):
            personal_accounts.credit_account(
                uow.conn, ids=IDS, actor="t", psn_no=psn_no, amount="1.00", reason="x"
            )


def test_status_dates_are_checked(engine: Engine) -> None:
    psn_no = run_transaction(engine, _person)["psn_no"]
    with UnitOfWork(engine) as uow, pytest.raises(InvalidInput, match=r"^on:"):
        insurance.set_insurance_status(
            uow.conn,
            ids=IDS,
            actor="t",
            psn_no=psn_no,
            insutype="310",
            action="suspend",
            on=date(2019, 1, 1),
        )


def test_enrolment_before_birth_is_refused(engine: Engine) -> None:
    with (
        UnitOfWork(engine) as uow,
        pytest.raises(InvalidInput, match=r"insurance\[0\].psn_insu_date"),
    ):
        _person(
            uow.conn,
            insurance=[persons.Insurance("310", "1101", "110199", psn_insu_date=date(1980, 1, 1))],
        )


def test_other_certificates_need_sex_and_birth_date(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        with pytest.raises(InvalidInput, match=r"^gend:"):
            _person(uow.conn, psn_cert_type="08", certno="E12345678")
        person = _person(
            uow.conn, psn_cert_type="08", certno="E12345678", gend="2", brdy=date(1985, 6, 1)
        )
        assert (person["gend"], person["brdy"]) == ("2", date(1985, 6, 1))


def test_change_institution_keeps_the_chain_unless_told(engine: Engine) -> None:
    def job(conn: Connection) -> None:
        _hospital(conn, "H11010200001", hosp_lv="3")
        _hospital(conn, "H11010200002", parent_code="H11010200001")
        row = institutions.change_institution(
            conn, ids=IDS, actor="t", fixmedins_code="H11010200002", fixmedins_name="分院"
        )
        assert row["parent_code"] == "H11010200001"
        row = institutions.change_institution(
            conn, ids=IDS, actor="t", fixmedins_code="H11010200002", parent_code=None
        )
        assert row["parent_code"] is None
        # A change that changes nothing writes nothing.
        before = _count(conn, audit_log)
        institutions.change_institution(
            conn, ids=IDS, actor="t", fixmedins_code="H11010200002", hosp_lv="2"
        )
        assert _count(conn, audit_log) == before

    run_transaction(engine, job)


def test_verify_credential(engine: Engine) -> None:
    def job(conn: Connection) -> dict:
        _hospital(conn)
        return credentials.issue_credential(
            conn, ids=IDS, actor="t", fixmedins_code="H11010200001", auth_mode="static"
        )

    issued = run_transaction(engine, job)
    with engine.connect() as conn:
        assert (
            credentials.verify_credential(conn, paasid=issued["paasid"], key=issued["secret"])
            == "H11010200001"
        )
        for paasid, key in [
            (None, issued["secret"]),
            (issued["paasid"], None),
            ("nope", issued["secret"]),
        ]:
            with pytest.raises(Unauthorized):
                credentials.verify_credential(conn, paasid=paasid, key=key)
    run_transaction(
        engine,
        lambda conn: institutions.change_institution(
            conn, ids=IDS, actor="t", fixmedins_code="H11010200001", vali_flag="0"
        ),
    )
    with engine.connect() as conn, pytest.raises(Forbidden):
        credentials.verify_credential(conn, paasid=issued["paasid"], key=issued["secret"])


def test_masking() -> None:
    assert mask_name("段正淳") == "段**"
    assert mask_name("李") == "李*"
    assert mask_certno("51010119900307451X") == "5***************1X"
    assert mask_phone("18012341999") == "180****1999"
    assert mask_tail("6222021234567890") == "************7890"
    assert mask_certno(None) is None and mask_phone("") == ""
    masked = mask_person({"psn_no": "1", "psn_name": "王小明", "certno": CERTNO, "tel": None})
    assert masked == {
        "psn_no": "1",
        "psn_name": "王**",
        "certno": "1***************14",
        "tel": None,
    }
