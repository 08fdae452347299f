"""`yibao init`: create the data directory, the schema, the gateway token key and the first
administrator."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from yibao.config import Settings
from yibao.enrolment import token_seal
from yibao.errors import ConfigError
from yibao.kit.files import write_private
from yibao.replica import pseudonym
from yibao.settlement import print_token
from yibao.storage.engine import detect_backend, make_null_engine
from yibao.storage.migrate import upgrade
from yibao.storage.uow import run_transaction
from yibao.users import service as users

ADMIN_PASSWORD_FILE = "admin-password.txt"


@dataclass(frozen=True)
class InitReport:
    data_dir: Path
    database: str
    backend: str
    admin_username: str
    admin_created: bool
    #: where the generated password was written (None when it came from the environment)
    admin_password_file: Path | None


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


def init(settings: Settings) -> InitReport:
    """Idempotent: running it again upgrades the schema and keeps the administrator."""
    data_dir = ensure_data_dir(settings.data_dir)
    # The key that seals signature-mode tokens (enrolment.token_seal): in the data directory,
    # never in the database, so a dump alone reveals no token.
    token_seal.ensure_key(data_dir)
    # The key that signs the settlement statement's print links (settlement.print_token).
    print_token.ensure_key(data_dir)
    # The key of the persons' pseudonyms in the columnar replica (replica.pseudonym): 0600
    # in the data directory, so that the replica file alone links no pseudonym to a person.
    pseudonym.ensure_key(data_dir)
    engine = make_null_engine(settings.db_url)
    try:
        backend = detect_backend(engine)
        upgrade(engine)
        password = settings.admin_password
        password_file: Path | None = None
        if password is None:
            password_file = data_dir / ADMIN_PASSWORD_FILE
            if password_file.exists():
                password = password_file.read_text(encoding="utf-8").strip()
            else:
                password = secrets.token_urlsafe(12)
        chosen: str = password

        def create_admin(conn: Connection) -> bool:
            if users.user_exists(conn, settings.admin_username):
                return False
            users.create_user(
                conn,
                username=settings.admin_username,
                password=chosen,
                role="admin",
                display_name="系统管理员",
            )
            return True

        created = bool(run_transaction(engine, create_admin))
        if created and password_file is not None:
            write_private(password_file, password + "\n")
        if not created and password_file is not None and not password_file.exists():
            password_file = None
    finally:
        engine.dispose()
    return InitReport(
        data_dir=data_dir,
        database=settings.db_url if not settings.is_sqlite else str(data_dir / "yibao.db"),
        backend=f"{backend.name} {backend.version}",
        admin_username=settings.admin_username,
        admin_created=created,
        admin_password_file=password_file,
    )
