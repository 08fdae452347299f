"""`yibao demo`: the simulator's small fixed-seed city, loaded into the data directory.

Idempotent: a second run finds every row in place and changes nothing (the fixtures file is
rewritten with the same content). Secrets are derived from the fixed seed, so the credentials
in `demo-fixtures.json` stay valid across reruns. Each institution has one credential of each
auth mode: static (`headers`; the database keeps the secret's sha256) and signature (`paasid`,
`paas_token`; the database keeps the token sealed under the data directory's key).
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from yibao.kit.clock import local_naive_now
from yibao.kit.files import write_private
from yibao.kit.ids import IdGenerator
from yibao.kit.jsonx import dumps
from yibao.kit.money import fmt
from yibao.policy import load_book
from yibao.replica.store import ReplicaStore
from yibao.simulate.bulk import BulkReport, bulk_load
from yibao.simulate.catalog_seed import ensure_sim_catalog
from yibao.simulate.clinical import BUILTIN_ITEMS
from yibao.simulate.model import CityParams, Institution, Label, Person
from yibao.simulate.names import POOLING_REGION
from yibao.simulate.people import ALL_TYPES, PersonFactory, make_institutions
from yibao.simulate.staff import write_staff
from yibao.simulate.store import (
    credential_for,
    signature_credential_for,
    write_institutions,
    write_persons,
)
from yibao.storage.tables import catalog_item, psn_insu, setl
from yibao.storage.uow import run_transaction
from yibao.users import service as users
from yibao.users.permissions import ROLES

log = logging.getLogger(__name__)

DEMO_SEED = 20240101
DEMO_PERSONS = 3000
FIXTURES_FILE = "demo-fixtures.json"
AGENCY_USERNAME = "demo-operator"
ROLE_LABELS = {name: role.label for name, role in ROLES.items()}
#: persons written to the fixtures file besides one of every insurance and person type
FIXTURE_SAMPLE = 40
#: days of settlement history `yibao demo` loads (ending now)
HISTORY_DAYS = 90


@dataclass(frozen=True)
class DemoReport:
    institutions_added: int
    persons_added: int
    agency_created: bool
    catalog: str
    fixtures: Path
    institutions: int
    persons: int


def demo_params(persons: int = DEMO_PERSONS) -> CityParams:
    return CityParams(seed=DEMO_SEED, persons=persons, institutions=16)


def agency_password(seed: int) -> str:
    digest = hmac.new(f"yibao-city-{seed}".encode(), b"agency", hashlib.sha256).hexdigest()
    return f"demo-{digest[:16]}"


def console_password(seed: int, who: str) -> str:
    """A demo console account's password (public: it is in demo-fixtures.json)."""
    digest = hmac.new(f"yibao-city-{seed}".encode(), f"console:{who}".encode(), hashlib.sha256)
    return f"Demo-{digest.hexdigest()[:16]}"


#: one demo user per agency role; the operator is the demo's `agency` account
AGENCY_DEMO_ROLES = ("sysadmin", "secadmin", "auditor", "operator", "reviewer", "analyst")


def agency_demo_users(seed: int) -> list[dict[str, str]]:
    return [
        {
            "username": AGENCY_USERNAME if role == "operator" else f"demo-{role}",
            "password": agency_password(seed)
            if role == "operator"
            else console_password(seed, role),
            "role": role,
        }
        for role in AGENCY_DEMO_ROLES
    ]


def institution_console(inst: Institution, seed: int, *, is_chain: bool) -> dict[str, str]:
    """The institution's console account: `inst_admin`, or `chain_admin` for a pharmacy
    chain's head."""
    return {
        "username": f"{inst.fixmedins_code.lower()}-admin",
        "password": console_password(seed, inst.fixmedins_code),
        "role": "chain_admin" if is_chain else "inst_admin",
    }


def _chain_heads(institutions: list[Institution]) -> set[str]:
    by_code = {i.fixmedins_code: i for i in institutions}
    return {
        i.parent_code
        for i in institutions
        if i.parent_code and i.parent_code in by_code and by_code[i.parent_code].kind == "pharmacy"
    }


def demo_persons(params: CityParams) -> list[Person]:
    """One showcase person of every (insutype, psn_type) first, then the crowd."""
    factory = PersonFactory(params)
    people = [factory.make(i, force=t) for i, t in enumerate(ALL_TYPES)]
    people += [factory.make(i) for i in range(len(ALL_TYPES), params.persons)]
    return people


def _catalog_loader() -> Callable[[Connection], Any] | None:
    """The catalog engineer's demo-catalog loader, when it exists in this build."""
    try:
        module = importlib.import_module("yibao.catalog.demo")
    except ImportError:
        return None
    loader: Callable[[Connection], Any] | None = getattr(module, "load_demo_catalog", None)
    return loader


def _catalog_items(conn: Connection, limit: int = 24) -> list[dict[str, str]]:
    """A sample of the catalog for the fixtures: every list type, both classes; price = the
    built-in price for the code, else the cap, else 10.00."""
    builtin = {i.code: i for i in BUILTIN_ITEMS}
    rows = conn.execute(
        select(
            catalog_item.c.hilist_code,
            catalog_item.c.hilist_name,
            catalog_item.c.list_type,
            catalog_item.c.chrgitm_lv,
            catalog_item.c.hilist_pric_uplmt_amt,
        )
        .where(catalog_item.c.vali_flag == "1")
        .where(catalog_item.c.enddate.is_(None))
        .order_by(catalog_item.c.list_type, catalog_item.c.hilist_code)
    ).all()
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    by_type: dict[str, list[Any]] = {}
    for r in rows:
        if r.hilist_code not in seen:
            seen.add(r.hilist_code)
            by_type.setdefault(r.list_type, []).append(r)
    # round-robin over list types so every type appears
    while len(out) < limit and any(by_type.values()):
        for lt in sorted(by_type):
            if by_type[lt] and len(out) < limit:
                r = by_type[lt].pop(0)
                if r.hilist_code in builtin:
                    price = builtin[r.hilist_code].price
                elif r.hilist_pric_uplmt_amt:
                    price = Decimal(r.hilist_pric_uplmt_amt)
                else:
                    price = Decimal("10.00")
                out.append(
                    {
                        "code": r.hilist_code,
                        "name": r.hilist_name,
                        "list_type": r.list_type,
                        "chrgitm_lv": r.chrgitm_lv,
                        "price": fmt(price),
                    }
                )
    if not out:  # no catalog loaded: the simulator's own items (unknown to the platform)
        out = [
            {
                "code": i.code,
                "name": i.name,
                "list_type": i.list_type,
                "chrgitm_lv": i.chrgitm_lv,
                "price": fmt(i.price),
            }
            for i in BUILTIN_ITEMS[:limit]
        ]
    return out


def institution_fixture(inst: Institution, seed: int, *, is_chain: bool = False) -> dict[str, Any]:
    paasid, secret = credential_for(seed, inst.fixmedins_code)
    account = institution_console(inst, seed, is_chain=is_chain)
    signing_paasid, paas_token = signature_credential_for(seed, inst.fixmedins_code)
    return {
        "code": inst.fixmedins_code,
        "name": inst.fixmedins_name,
        "kind": inst.kind,
        "level": inst.hosp_lv,
        "admdvs": inst.admdvs,
        "parent_code": inst.parent_code,
        # static mode: the headers as sent; signature mode: the access id and the token that
        # signs each request (x-tif-timestamp, x-tif-nonce, x-tif-signature)
        "credentials": {
            "headers": {"x-tif-paasid": paasid, "x-yibao-key": secret},
            "paasid": signing_paasid,
            "paas_token": paas_token,
        },
        # the institution's console account (role inst_admin; a chain's head: chain_admin)
        "console": {"username": account["username"], "password": account["password"]},
    }


def person_fixture(p: Person) -> dict[str, Any]:
    return {
        "psn_no": p.psn_no,
        "certno": p.certno,
        "name": p.psn_name,
        "gend": p.gend,
        "brdy": p.brdy.isoformat(),
        "insutype": p.insutype,
        "psn_type": p.psn_type,
        "insuplc_admdvs": p.insuplc_admdvs,
        "balance": fmt(p.balc),
        "card_no": p.card_no,
        "card_sn": p.card_sn,
        "ec_token": p.ec_token,
        "idets": list(p.idets),
        "chronic": list(p.chronic),
    }


def fixture_persons(persons: list[Person]) -> list[Person]:
    """The persons in the fixtures: the showcase and sample persons, then every person insured
    in another region (异地就医: the driver and the tests find them here)."""
    # the persons a test or a visitor settles for now: living ones
    living = [p for p in persons if p.death_date is None]
    head = living[: len(ALL_TYPES) + FIXTURE_SAMPLE]
    return head + [p for p in living[len(head) :] if p.insuplc_admdvs != POOLING_REGION]


def demo_regions() -> list[dict[str, Any]]:
    """The pooling regions of the packaged parameter files valid today: the demo city's and its
    neighbour's (`covers`: the district prefixes each holds)."""
    today = local_naive_now().date()
    seen: dict[str, dict[str, Any]] = {}
    for v in load_book().versions:
        if v.valid_on(today) and v.admdvs not in seen:
            seen[v.admdvs] = {"admdvs": v.admdvs, "name": v.name, "covers": list(v.covers)}
    return [seen[k] for k in sorted(seen)]


def fixtures(
    institutions: list[Institution],
    persons: list[Person],
    catalog: list[dict[str, str]],
    *,
    seed: int,
    balances: dict[str, Decimal] | None = None,
) -> dict[str, Any]:
    sample = fixture_persons(persons)
    heads = _chain_heads(institutions)
    people = []
    for p in sample:
        row = person_fixture(p)
        if balances and p.psn_no in balances:
            row["balance"] = fmt(balances[p.psn_no])
        people.append(row)
    return {
        "seed": seed,
        "institutions": [
            institution_fixture(i, seed, is_chain=i.fixmedins_code in heads) for i in institutions
        ],
        "regions": demo_regions(),
        "persons": people,
        "catalog_items": catalog,
        "agency": {
            "username": AGENCY_USERNAME,
            "password": agency_password(seed),
            "role": "operator",
        },
        "agency_users": agency_demo_users(seed),
    }


def load_demo(engine: Engine, data_dir: Path, *, persons: int = DEMO_PERSONS) -> DemoReport:
    """Write the demo city (idempotent) and `<data_dir>/demo-fixtures.json` (mode 0600)."""
    params = demo_params(persons)
    institutions = make_institutions(params, demo=True)
    people = demo_persons(params)
    now = local_naive_now()
    loader = _catalog_loader()
    catalog_note = "未加载 not loaded (yibao.catalog.demo is not available in this build)"
    if loader is not None:
        result = run_transaction(engine, loader)
        catalog_note = (
            "演示目录已加载 demo catalog loaded"
            if result is not None
            else "演示目录已存在 demo catalog present (unchanged)"
        )

    def write(conn: Connection) -> tuple[int, int, bool]:
        # the items the city's bills use (and the driver sends), when the catalog lacks them
        ensure_sim_catalog(conn, ids=IdGenerator(30), now=now)
        added_i = write_institutions(
            conn, institutions, seed=params.seed, now=now, data_dir=data_dir
        )
        added_p = write_persons(conn, people, now=now)
        # the departments and doctors its visits name, for 5101/5102
        write_staff(conn, institutions, ids=IdGenerator(30), now=now)
        created = False
        for account in agency_demo_users(params.seed):
            if not users.user_exists(conn, account["username"]):
                users.create_user(
                    conn,
                    username=account["username"],
                    password=account["password"],
                    role=account["role"],
                    display_name=f"演示{ROLE_LABELS[account['role']]}",
                    demo=True,
                )
                created = created or account["role"] == "operator"
        heads = _chain_heads(institutions)
        for inst in institutions:
            account = institution_console(inst, params.seed, is_chain=inst.fixmedins_code in heads)
            if not users.user_exists(conn, account["username"]):
                users.create_user(
                    conn,
                    username=account["username"],
                    password=account["password"],
                    role=account["role"],
                    display_name=f"{inst.fixmedins_name}管理员"[:50],
                    tenant_code=inst.fixmedins_code,
                    demo=True,
                )
        return added_i, added_p, created

    added_i, added_p, created = run_transaction(engine, write)
    with engine.connect() as conn:
        catalog = _catalog_items(conn)
        balances = _balances(conn, [p.psn_no for p in fixture_persons(people)])
    doc = fixtures(institutions, people, catalog, seed=params.seed, balances=balances)
    path = data_dir / FIXTURES_FILE
    write_private(path, dumps(doc).decode() + "\n")
    return DemoReport(
        institutions_added=added_i,
        persons_added=added_p,
        agency_created=created,
        catalog=catalog_note,
        fixtures=path,
        institutions=len(institutions),
        persons=len(people),
    )


def load_history(
    engine: Engine,
    data_dir: Path,
    replica: ReplicaStore | None,
    *,
    persons: int = DEMO_PERSONS,
    days: int = HISTORY_DAYS,
    labels_out: list[Label] | None = None,
) -> BulkReport | None:
    """The demo city's settlements of the last `days` days up to now, bulk-loaded through the
    policy engine (so the dashboard has a trend and breakdowns from the first start; today's
    figures come from live settlement). Stays that would end after now stay unsettled. None
    when the store already holds settlements (a second run changes nothing)."""
    with engine.connect() as conn:
        if conn.execute(select(setl.c.setl_id).limit(1)).first() is not None:
            return None
    base = demo_params(persons)
    now = local_naive_now()
    window = replace(base, start=now.date() - timedelta(days=days), days=days)
    return bulk_load(
        engine,
        window,
        data_dir=data_dir,
        replica=replica,
        # the very persons and institutions `load_demo` wrote (the same seed, the same start)
        persons=demo_persons(base),
        institutions=make_institutions(base, demo=True),
        settle_until=now,
        labels_out=labels_out,
    )


def _balances(conn: Connection, psn_nos: list[str]) -> dict[str, Decimal]:
    """Current account balances (settlements since the demo was loaded change them)."""
    rows = conn.execute(
        select(psn_insu.c.psn_no, psn_insu.c.balc).where(psn_insu.c.psn_no.in_(psn_nos))
    ).all()
    return {r.psn_no: r.balc for r in rows}
