"""Writing the city's institutions, credentials and persons into the row store, with the
same change-log payloads enrolment writes (`yibao.replica.rows`), so the replica sees them.

Idempotent: rows whose key already exists are left as they are (a second run writes nothing).
The bulk loader passes `payloads=` to collect the payloads for its direct replica path instead
of appending them to the change log.
Written directly against the tables because the enrolment services register one record per
call with an audit row each; the payloads are the contract, and they are the same.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, insert, select

from yibao.enrolment import token_seal
from yibao.replica import rows as replica_rows
from yibao.simulate.model import Institution, Person
from yibao.simulate.names import POOLING_REGION
from yibao.simulate.row_shapes import converter
from yibao.simulate.spool import insert_sql
from yibao.storage import changelog
from yibao.storage.tables import (
    fixmedins,
    fixmedins_credential,
    psn,
    psn_idet,
    psn_insu,
    remote_reg,
)

_CHUNK = 500


def credential_for(seed: int, fixmedins_code: str) -> tuple[str, str]:
    """(paasid, secret) of an institution's static-mode credential: derived from the seed, so
    stable across reruns; only the secret's sha256 is stored."""
    digest = hmac.new(f"yibao-city-{seed}".encode(), fixmedins_code.encode(), hashlib.sha256)
    hexed = digest.hexdigest()
    return f"{fixmedins_code}-{hexed[:12]}", hexed[12:52]


def signature_credential_for(seed: int, fixmedins_code: str) -> tuple[str, str]:
    """(paasid, paasToken) of an institution's signature-mode credential, derived from the
    seed like `credential_for`; the token is stored sealed (`enrolment.token_seal`)."""
    digest = hmac.new(f"yibao-city-sign-{seed}".encode(), fixmedins_code.encode(), hashlib.sha256)
    hexed = digest.hexdigest()
    return f"{fixmedins_code}-s{hexed[:11]}", hexed[11:51]


def _existing(conn: Connection, column: Any, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        part = list(keys[i : i + _CHUNK])
        found.update(r[0] for r in conn.execute(select(column).where(column.in_(part))))
    return found


#: generated dict row → tuple of at-rest values, per table (`row_shapes.converter`)
_CONVERTERS: dict[str, Callable[[Mapping[str, Any]], tuple[Any, ...]]] = {}


def _insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT the rows (every column given) with executemany on the driver cursor, each row
    as its at-rest values (`row_shapes.converter`: what the columns' bind processing makes of
    them). A city has a million persons and more: SQLAlchemy's per-row parameter processing
    was most of what writing them cost."""
    convert = _CONVERTERS.get(table.name)
    if convert is None:
        convert = _CONVERTERS[table.name] = converter(table)
    raw = conn.connection.driver_connection
    assert raw is not None  # a connection in use always holds its driver connection
    cur = raw.cursor()
    try:
        cur.executemany(insert_sql(table, conn.dialect.paramstyle), [convert(r) for r in rows])
    finally:
        cur.close()


def write_institutions(
    conn: Connection,
    institutions: Sequence[Institution],
    *,
    seed: int,
    now: datetime,
    payloads: list[dict[str, Any]] | None = None,
    data_dir: Path | None = None,
) -> int:
    """Institutions (heads of chains first) and their credentials — one static-mode each and,
    given the data directory whose key seals tokens, one signature-mode each; returns the
    institutions added."""
    done = _existing(conn, fixmedins.c.fixmedins_code, [i.fixmedins_code for i in institutions])
    ordered = sorted(institutions, key=lambda i: i.parent_code is not None)
    new = [i for i in ordered if i.fixmedins_code not in done]
    if not new:
        return 0
    rows = [
        {
            "fixmedins_code": i.fixmedins_code,
            "fixmedins_name": i.fixmedins_name,
            "kind": i.kind,
            "hosp_lv": i.hosp_lv,
            "admdvs": i.admdvs,
            "parent_code": i.parent_code,
            "vali_flag": "1",
            "created_at": now,
            "updated_at": now,
        }
        for i in new
    ]
    heads = [r for r in rows if r["parent_code"] is None]
    stores = [r for r in rows if r["parent_code"] is not None]
    for part in (heads, stores):
        if part:
            conn.execute(insert(fixmedins), part)
    creds = []
    for i in new:
        paasid, secret = credential_for(seed, i.fixmedins_code)
        creds.append(
            {
                "paasid": paasid,
                "fixmedins_code": i.fixmedins_code,
                "auth_mode": "static",
                "secret_sha256": hashlib.sha256(secret.encode()).hexdigest(),
                "token_sealed": None,
                "vali_flag": "1",
                "created_at": now,
                "revoked_at": None,
            }
        )
        if data_dir is not None:
            paasid, token = signature_credential_for(seed, i.fixmedins_code)
            creds.append(
                {
                    "paasid": paasid,
                    "fixmedins_code": i.fixmedins_code,
                    "auth_mode": "signature",
                    "secret_sha256": None,
                    "token_sealed": token_seal.seal(data_dir, paasid, token),
                    "vali_flag": "1",
                    "created_at": now,
                    "revoked_at": None,
                }
            )
    conn.execute(insert(fixmedins_credential), creds)
    made = [replica_rows.fixmedins_payload(r) for r in rows]
    if payloads is not None:
        payloads.extend(made)
    else:
        changelog.append_many(
            conn,
            [(replica_rows.FIXMEDINS, m["fixmedins_code"], m, "upsert") for m in made],
        )
    return len(rows)


def person_rows(
    p: Person, now: datetime
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """The psn, psn_insu and psn_idet rows of one person."""
    psn_row = {
        "psn_no": p.psn_no,
        "psn_cert_type": "01",
        "certno": p.certno,
        "psn_name": p.psn_name,
        "gend": p.gend,
        "naty": "01",
        "brdy": p.brdy,
        "tel": p.tel,
        "card_no": p.card_no,
        "card_sn": p.card_sn,
        "ec_token": p.ec_token,
        "family_id": None,
        "death_date": p.death_date,
        "created_at": now,
        "updated_at": now,
    }
    insu_row = {
        "psn_no": p.psn_no,
        "insutype": p.insutype,
        "psn_type": p.psn_type,
        "psn_insu_stas": "1",
        "psn_insu_date": p.psn_insu_date,
        "paus_insu_date": None,
        "cvlserv_flag": p.cvlserv_flag,
        "insuplc_admdvs": p.insuplc_admdvs,
        "emp_name": p.emp_name,
        "balc": p.balc,
        "created_at": now,
        "updated_at": now,
    }
    idet_rows = [
        {
            "psn_no": p.psn_no,
            "psn_idet_type": t,
            "begntime": datetime.combine(p.psn_insu_date, time()),
            "psn_type_lv": None,
            "endtime": None,
            "memo": "模拟城市 simulated city",
        }
        for t in p.idets
    ]
    return psn_row, insu_row, idet_rows


def remote_reg_row(p: Person, now: datetime) -> dict[str, Any] | None:
    """The long-term 异地就医备案 of a person insured in another region who lives in the demo
    city (None for everyone else): for the demo city's region, from psn_insu_date on."""
    if not p.remote_registered:
        return None
    return {
        "remote_reg_id": f"SIM{p.psn_no}",
        "psn_no": p.psn_no,
        "insutype": None,
        "insuplc_admdvs": p.insuplc_admdvs,
        "mdtrt_area_admdvs": POOLING_REGION,
        "reg_type": "long_term",
        "begndate": p.psn_insu_date,
        "enddate": None,
        "tel": None,
        "addr": None,
        "memo": "模拟城市 simulated city",
        "vali_flag": "1",
        "crte_by": "simulate",
        "revs_time": None,
        "revs_by": None,
        "revs_memo": None,
        "created_at": now,
        "updated_at": now,
    }


def write_persons(
    conn: Connection,
    persons: Iterable[Person],
    *,
    now: datetime,
    payloads: list[dict[str, Any]] | None = None,
) -> int:
    """Persons with their insurance and identities; existing psn_no are skipped."""
    batch: list[Person] = []
    added = 0
    for p in persons:
        batch.append(p)
        if len(batch) >= _CHUNK:
            added += _write_person_batch(conn, batch, now, payloads)
            batch = []
    if batch:
        added += _write_person_batch(conn, batch, now, payloads)
    return added


def _write_person_batch(
    conn: Connection, batch: list[Person], now: datetime, payloads: list[dict[str, Any]] | None
) -> int:
    done = _existing(conn, psn.c.psn_no, [p.psn_no for p in batch])
    new = [p for p in batch if p.psn_no not in done]
    if not new:
        return 0
    psn_rows: list[dict[str, Any]] = []
    insu_rows: list[dict[str, Any]] = []
    idet_rows: list[dict[str, Any]] = []
    changes: list[tuple[str, str, dict[str, Any], changelog.Op]] = []
    reg_rows = [r for r in (remote_reg_row(p, now) for p in new) if r is not None]
    for p in new:
        prow, irow, drows = person_rows(p, now)
        psn_rows.append(prow)
        insu_rows.append(irow)
        idet_rows.extend(drows)
        payload = replica_rows.psn_payload(prow, irow, assistance=bool(drows))
        changes.append((replica_rows.PSN, p.psn_no, payload, changelog.UPSERT))
    _insert_many(conn, psn, psn_rows)
    _insert_many(conn, psn_insu, insu_rows)
    if idet_rows:
        _insert_many(conn, psn_idet, idet_rows)
    if reg_rows:
        _insert_many(conn, remote_reg, reg_rows)
    if payloads is not None:
        payloads.extend(payload for _e, _k, payload, _op in changes)
    else:
        changelog.append_many(conn, changes)
    return len(new)
