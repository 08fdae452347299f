"""`yibao replica rotate-pseudonym-key`: a new owner-only key, the replica rebuilt with it
(every psn_ref changes, the old ones link to nobody), `replica verify` still passes; refused
while a server owns the replica; a replica of an old key is rebuilt when opened."""

from __future__ import annotations

import stat

import pytest
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.config import Settings
from yibao.replica import pseudonym
from yibao.replica.lock import OwnerLock
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.service import Replica
from yibao.replica.verify import verify

runner = CliRunner()


@pytest.fixture
def cli_env(rs_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(rs_settings.data_dir))
    monkeypatch.setenv("YIBAO_DATABASE_URL", rs_settings.db_url)
    return rs_settings


def _refs(settings: Settings) -> set[str]:
    replica = Replica.open(settings)
    try:
        replica.applier.catch_up()
        checked = verify(replica.store, replica.source, replica.applier.catch_up)
        assert checked.ok, [c.as_dict() for c in checked.checks if not c.ok]
        _seq, _names, found = replica.store.query("SELECT DISTINCT psn_ref FROM setl_fact")
        return {str(r[0]) for r in found}
    finally:
        replica.close()


def test_rotation_rebuilds_the_replica_with_new_pseudonyms(cli_env: Settings, seeded: dict) -> None:
    before = _refs(cli_env)
    old = Pseudonyms.for_dir(cli_env.data_dir)
    employee = seeded["employee"]["psn_no"]
    assert old.ref(employee) in before

    done = runner.invoke(app, ["replica", "rotate-pseudonym-key", "--yes"])
    assert done.exit_code == 0, done.output
    key_file = pseudonym.key_path(cli_env.data_dir)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    new = Pseudonyms.for_dir(cli_env.data_dir)
    assert new.key_id != old.key_id and new.key_id in done.output
    after = _refs(cli_env)
    assert new.ref(employee) in after and not (before & after)


def test_a_replica_of_another_key_is_rebuilt_when_opened(cli_env: Settings, seeded: dict) -> None:
    before = _refs(cli_env)
    pseudonym.rotate_key(cli_env.data_dir)  # e.g. a key restored from a backup
    after = _refs(cli_env)
    assert len(after) == len(before) and not (before & after)


def test_rotation_is_refused_while_a_server_owns_the_replica(cli_env: Settings) -> None:
    _path, _created = pseudonym.ensure_key(cli_env.data_dir)
    old = Pseudonyms.for_dir(cli_env.data_dir).key_id
    lock = OwnerLock(cli_env.data_dir)
    assert lock.acquire()
    try:
        lock.publish("http://127.0.0.1:1")
        refused = runner.invoke(app, ["replica", "rotate-pseudonym-key", "--yes"])
    finally:
        lock.release()
    assert refused.exit_code != 0
    assert Pseudonyms.for_dir(cli_env.data_dir).key_id == old
