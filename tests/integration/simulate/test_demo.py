"""`yibao demo`: idempotent, fixtures in the agreed shape, owner-readable only."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select

from yibao.codes.validators import is_valid
from yibao.simulate.demo import load_demo
from yibao.simulate.people import ALL_TYPES
from yibao.storage.tables import (
    agency_user,
    change_log,
    fixmedins,
    fixmedins_credential,
    metadata,
    psn,
    psn_insu,
)


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }


def test_demo_is_idempotent_and_writes_private_fixtures(tmp_path: Path, engine: Engine) -> None:
    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    first = load_demo(engine, data_dir, persons=300)
    assert first.persons_added == 300
    before = _counts(engine)
    text1 = (data_dir / "demo-fixtures.json").read_bytes()
    second = load_demo(engine, data_dir, persons=300)
    assert (second.institutions_added, second.persons_added, second.agency_created) == (0, 0, False)
    assert _counts(engine) == before
    path = data_dir / "demo-fixtures.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == text1

    doc = json.loads(text1)
    assert set(doc) >= {"institutions", "persons", "catalog_items", "agency"}
    kinds: dict[str, int] = {}
    levels = set()
    for inst in doc["institutions"]:
        assert re.fullmatch(r"[HP]\d{11}", inst["code"])
        assert inst["admdvs"].startswith("1101")
        kinds[inst["kind"]] = kinds.get(inst["kind"], 0) + 1
        levels.add((inst["kind"], inst["level"]))
        assert set(inst["credentials"]["headers"]) == {"x-tif-paasid", "x-yibao-key"}
    assert all(kinds.get(k, 0) >= 2 for k in ("hospital", "clinic", "pharmacy"))
    assert {
        ("hospital", "1"),
        ("hospital", "2"),
        ("hospital", "3"),
        ("clinic", "1"),
        ("pharmacy", "0"),
    } <= levels
    types = {(p["insutype"], p["psn_type"]) for p in doc["persons"]}
    assert set(ALL_TYPES) <= types
    for p in doc["persons"]:
        assert is_valid("certno", p["certno"])
        assert p["certno"][6:14] == p["brdy"].replace("-", "")
        assert re.fullmatch(r"\d+\.\d\d", p["balance"])
        assert p["insuplc_admdvs"] in ("110199", "131099")
    assert doc["catalog_items"]
    for item in doc["catalog_items"]:
        assert re.fullmatch(r"\d+\.\d\d", item["price"])
    assert doc["agency"]["username"] and len(doc["agency"]["password"]) >= 8

    with engine.connect() as conn:
        # only the sha256 of each secret is stored, and it matches the fixtures
        for inst in doc["institutions"]:
            headers = inst["credentials"]["headers"]
            stored = conn.execute(
                select(fixmedins_credential.c.secret_sha256).where(
                    fixmedins_credential.c.paasid == headers["x-tif-paasid"]
                )
            ).scalar_one()
            assert stored == hashlib.sha256(headers["x-yibao-key"].encode()).hexdigest()
            # and one signature-mode credential, its token sealed
            creds = inst["credentials"]
            signing = (
                conn.execute(
                    select(fixmedins_credential).where(
                        fixmedins_credential.c.paasid == creds["paasid"]
                    )
                )
                .mappings()
                .one()
            )
            assert signing["auth_mode"] == "signature" and signing["fixmedins_code"] == inst["code"]
            assert signing["token_sealed"] and creds["paas_token"] not in signing["token_sealed"]
            assert signing["secret_sha256"] is None
        role = conn.execute(
            select(agency_user.c.role).where(agency_user.c.username == doc["agency"]["username"])
        ).scalar_one()
        assert role == "operator"
        # every institution has a console account: inst_admin, a pharmacy chain's head
        # chain_admin; one agency user per agency role
        heads = {i["parent_code"] for i in doc["institutions"] if i["parent_code"]}
        for inst in doc["institutions"]:
            account = inst["console"]
            assert set(account) == {"username", "password"}
            row = conn.execute(
                select(agency_user.c.role, agency_user.c.tenant_code).where(
                    agency_user.c.username == account["username"]
                )
            ).one()
            chain = inst["code"] in heads and inst["kind"] == "pharmacy"
            assert row.role == ("chain_admin" if chain else "inst_admin")
            assert row.tenant_code == inst["code"]
        agency_roles = [u["role"] for u in doc["agency_users"]]
        assert agency_roles == [
            "sysadmin",
            "secadmin",
            "auditor",
            "operator",
            "reviewer",
            "analyst",
        ]
        assert doc["agency"]["username"] in {u["username"] for u in doc["agency_users"]}
        for user in doc["agency_users"]:
            stored = conn.execute(
                select(agency_user.c.role, agency_user.c.password_hash).where(
                    agency_user.c.username == user["username"]
                )
            ).one()
            assert stored.role == user["role"]
            PasswordHasher().verify(stored.password_hash, user["password"])
        n_psn = conn.execute(select(func.count()).select_from(psn)).scalar_one()
        n_insu = conn.execute(select(func.count()).select_from(psn_insu)).scalar_one()
        n_inst = conn.execute(select(func.count()).select_from(fixmedins)).scalar_one()
        entities = dict(
            conn.execute(
                select(change_log.c.entity, func.count()).group_by(change_log.c.entity)
            ).all()
        )
    assert n_psn == n_insu == 300
    # the replica hears of every person and institution
    assert entities.get("psn") == n_psn and entities.get("fixmedins") == n_inst


def test_demo_has_a_second_region_and_every_person_insured_there(
    tmp_path: Path, engine: Engine
) -> None:
    from yibao.storage.tables import remote_reg

    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    load_demo(engine, data_dir, persons=300)
    doc = json.loads((data_dir / "demo-fixtures.json").read_bytes())
    regions = {r["admdvs"]: r for r in doc["regions"]}
    assert set(regions) >= {"110199", "131099"}
    assert regions["131099"]["covers"] == ["1310"] and regions["110199"]["covers"] == ["1101"]
    with engine.connect() as conn:
        elsewhere = set(
            conn.execute(
                select(psn_insu.c.psn_no).where(psn_insu.c.insuplc_admdvs == "131099")
            ).scalars()
        )
        registered = set(conn.execute(select(remote_reg.c.psn_no)).scalars())
    assert len(elsewhere) == 300 // 25  # one in 25 of the crowd
    fixtures_elsewhere = {p["psn_no"] for p in doc["persons"] if p["insuplc_admdvs"] == "131099"}
    assert fixtures_elsewhere == elsewhere
    for p in doc["persons"]:
        if p["insuplc_admdvs"] == "131099":
            assert p["certno"].startswith("1310") and p["card_no"].startswith("1310")
    # most hold a long-term 异地就医备案 for the demo city; one in ten does not
    assert registered < elsewhere and len(elsewhere - registered) == 2
