"""`yibao init`: create the data directory, the schema, the gateway token key and the first
three accounts (三权分立: the system administrator, the security administrator, the auditor).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from yibao.config import Settings
from yibao.enrolment import token_seal
from yibao.enrolment.repo import audit as audit_repo
from yibao.errors import ConfigError, InvalidInput
from yibao.kit.files import write_private
from yibao.replica import pseudonym
from yibao.settlement import print_token
from yibao.storage.engine import detect_backend, make_null_engine
from yibao.storage.migrate import upgrade
from yibao.storage.uow import run_transaction
from yibao.users import service as users

ADMIN_PASSWORD_FILE = "admin-password.txt"
SECADMIN_PASSWORD_FILE = "secadmin-password.txt"
AUDITOR_PASSWORD_FILE = "auditor-password.txt"


@dataclass(frozen=True)
class FirstAccount:
    """One of init's three accounts (三权分立: sysadmin, secadmin, auditor)."""

    username: str
    role: str
    display_name: str
    env_var: str
    created: bool
    #: where the generated password was written (None when it came from the environment or
    #: the account already existed without a file)
    password_file: Path | None


@dataclass(frozen=True)
class InitReport:
    data_dir: Path
    database: str
    backend: str
    accounts: tuple[FirstAccount, ...]
    #: users whose old role name was migrated (admin → sysadmin)
    roles_migrated: int

    @property
    def admin_username(self) -> str:
        return self.accounts[0].username

    @property
    def admin_created(self) -> bool:
        return self.accounts[0].created

    @property
    def admin_password_file(self) -> Path | None:
        return self.accounts[0].password_file


def ensure_data_dir(path: Path) -> Path:
    """Create the data directory (0700) or fail with what to fix."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(
            f"无法创建数据目录 {path}: {exc.strerror} (set YIBAO_DATA_DIR to a writable directory)"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"数据目录不可写 {path} (set YIBAO_DATA_DIR to a writable directory)")
    return path.resolve()


def _first_accounts(settings: Settings) -> list[tuple[str, str, str, str, str | None, str]]:
    """(username, role, display name, env var, password from the environment, file name)."""
    return [
        (
            settings.admin_username,
            "sysadmin",
            "系统管理员",
            "YIBAO_ADMIN_PASSWORD",
            settings.admin_password,
            ADMIN_PASSWORD_FILE,
        ),
        (
            settings.secadmin_username,
            "secadmin",
            "安全管理员",
            "YIBAO_SECADMIN_PASSWORD",
            settings.secadmin_password,
            SECADMIN_PASSWORD_FILE,
        ),
        (
            settings.auditor_username,
            "auditor",
            "安全审计员",
            "YIBAO_AUDITOR_PASSWORD",
            settings.auditor_password,
            AUDITOR_PASSWORD_FILE,
        ),
    ]


def init(settings: Settings) -> InitReport:
    """Idempotent: running it again upgrades the schema, migrates old role names and keeps
    the accounts."""
    data_dir = ensure_data_dir(settings.data_dir)
    # The key that seals signature-mode tokens (enrolment.token_seal): in the data directory,
    # never in the database, so a dump alone reveals no token.
    token_seal.ensure_key(data_dir)
    # The key that signs the settlement statement's print links (settlement.print_token).
    print_token.ensure_key(data_dir)
    # The key of the persons' pseudonyms in the columnar replica (replica.pseudonym): 0600
    # in the data directory, so that the replica file alone links no pseudonym to a person.
    pseudonym.ensure_key(data_dir)
    names = [a[0] for a in _first_accounts(settings)]
    if len(set(names)) != len(names):
        raise ConfigError(
            "三权分立: YIBAO_ADMIN_USERNAME, YIBAO_SECADMIN_USERNAME and YIBAO_AUDITOR_USERNAME "
            "must be three different names"
        )
    engine = make_null_engine(settings.db_url)
    accounts: list[FirstAccount] = []
    try:
        backend = detect_backend(engine)
        upgrade(engine)
        migrated = int(run_transaction(engine, users.migrate_roles) or 0)
        # the audit chain's head row exists before any record (enrolment.repo.audit.ensure_head)
        run_transaction(engine, audit_repo.ensure_head)
        for username, role, display, env_var, given, file_name in _first_accounts(settings):
            password = given
            password_file: Path | None = None
            if password is None:
                password_file = data_dir / file_name
                if password_file.exists():
                    password = password_file.read_text(encoding="utf-8").strip()
                else:
                    password = users.generate_password()
            chosen: str = password

            def create(
                conn: Connection,
                username: str = username,
                role: str = role,
                display: str = display,
                chosen: str = chosen,
                env_var: str = env_var,
            ) -> bool:
                if users.user_exists(conn, username):
                    return False
                try:
                    users.create_user(
                        conn, username=username, password=chosen, role=role, display_name=display
                    )
                except InvalidInput as exc:
                    raise ConfigError(
                        f"{env_var}: {exc.message.removeprefix('password: ')} "
                        f"(or unset it: a password is then generated)"
                    ) from None
                return True

            created = bool(run_transaction(engine, create))
            if created and password_file is not None:
                write_private(password_file, password + "\n")
            if not created and password_file is not None and not password_file.exists():
                password_file = None
            accounts.append(FirstAccount(username, role, display, env_var, created, password_file))
    finally:
        engine.dispose()
    return InitReport(
        data_dir=data_dir,
        database=settings.db_url if not settings.is_sqlite else str(data_dir / "yibao.db"),
        backend=f"{backend.name} {backend.version}",
        accounts=tuple(accounts),
        roles_migrated=migrated,
    )
