"""Configuration: ``YIBAO_*`` environment variables over an optional ``yibao.toml`` in the
data directory, over defaults. Nothing is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from yibao.errors import ConfigError

DEFAULT_DATA_DIR = "./var"


class _TomlSource(PydanticBaseSettingsSource):
    """Reads ``<data_dir>/yibao.toml`` (a flat table of setting names, without the prefix)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._values: dict[str, Any] = {}
        if path is not None and path.is_file():
            try:
                self._values = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(
                    f"配置文件无法读取 {path}: {exc} (fix or remove the file)"
                ) from exc

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._values.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """Every setting of yibao. Environment: ``YIBAO_<NAME>`` (e.g. ``YIBAO_DATABASE_URL``)."""

    model_config = SettingsConfigDict(env_prefix="YIBAO_", extra="ignore")

    data_dir: Path = Field(default=Path(DEFAULT_DATA_DIR), description="Data directory")
    database_url: str | None = Field(
        default=None, description="Row store URL; default sqlite:///<data_dir>/yibao.db"
    )
    timezone: str = "Asia/Shanghai"
    #: SQLite durability: FULL (default, every commit is on disk) or NORMAL (opt-in, faster;
    #: a commit may be lost on power failure).
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    sqlite_busy_timeout_ms: int = 10_000
    #: SQLite: WAL pages the writer appends between automatic checkpoints (PRAGMA
    #: wal_autocheckpoint). SQLite's own 1,000 checkpointed every few group commits, copying
    #: the same hot pages (index roots, the change log's tail) again each time; 10,000 (a WAL
    #: of ~40 MB) cut the bytes a call reads and writes (docs/architecture.md, "The write path").
    sqlite_wal_autocheckpoint: int = Field(default=10_000, ge=100, le=1_000_000)
    #: MySQL-protocol stores: a server that is down or frozen must not hang a call (issue 23).
    #: Seconds to open a connection, to wait for a reply (PyMySQL read/write timeouts), and the
    #: server-side limit of one statement (MariaDB max_statement_time, TiDB and MySQL
    #: max_execution_time); 0 turns the statement limit off.
    mysql_connect_timeout_s: float = Field(default=3.0, gt=0, le=300)
    mysql_read_timeout_s: float = Field(default=5.0, gt=0, le=3600)
    mysql_write_timeout_s: float = Field(default=5.0, gt=0, le=3600)
    mysql_statement_timeout_s: float = Field(default=4.0, ge=0, le=3600)
    host: str = "127.0.0.1"
    port: int = 8000
    #: Group commit: the writer takes up to this many pending calls into one transaction.
    write_batch_max: int = 256
    #: Columnar replica (DuckDB) threads and memory cap.
    duckdb_threads: int = 1
    duckdb_memory_limit: str = "1GB"
    #: In `yibao serve`'s analytics process, each thread that runs analytic reads (dashboards,
    #: named queries, portraits, post-hoc runs) lowers its CPU priority by this many nice
    #: steps, so that under load the cores go to settlement first; the replica applier's
    #: thread keeps the normal priority (freshness). 0 leaves every thread as it is.
    analytics_nice: int = Field(default=10, ge=0, le=19)
    replica_enabled: bool = True
    #: Applier poll interval when idle, milliseconds.
    replica_poll_ms: int = 50
    #: The applier's background loop starts a micro-batch at most every this many
    #: milliseconds (strong reads force their own catch-up and never wait for it).
    replica_batch_window_ms: int = 150
    admin_username: str = "admin"
    #: `yibao init`'s first accounts: the system administrator (`admin_username`, role
    #: sysadmin), the security administrator and the auditor (三权分立: three accounts). Each
    #: password from its variable, or generated into the data directory (owner-only).
    admin_password: str | None = None
    secadmin_username: str = "secadmin"
    secadmin_password: str | None = None
    auditor_username: str = "auditor"
    auditor_password: str | None = None
    #: Console sessions end this long after sign-in, whatever happens (absolute expiry) …
    session_absolute_hours: float = Field(default=12, gt=0, le=24 * 30)
    #: … or after this many minutes without a request (idle expiry).
    session_idle_minutes: float = Field(default=30, gt=0, le=24 * 60)
    #: Refuse calls without a valid sign_no from 9001 (lenient by default, as clients differ).
    require_sign_in: bool = False
    #: Accept signtype MOCK (skip the patient's password check) — test environments only.
    accept_mock_signtype: bool = True
    #: Gateway signature: a request's x-tif-timestamp must lie within ± this many seconds of
    #: server time, and its nonce is remembered that long (docs/interface.md §2).
    signature_window_s: int = Field(default=300, ge=1, le=86_400)
    #: A request body in GBK/GB2312/GB18030 is answered in its charset (`request`), or always
    #: in UTF-8 (`utf-8`) for clients that read UTF-8 whatever they send.
    answer_charset: Literal["request", "utf-8"] = "request"
    #: Real-time review (事前/事中 rules inside settlement, docs/review.md): `off` answers every
    #: call as if no rule existed (the A/B benchmark; an emergency switch). 3101/3102 still
    #: answer with the rules.
    review: bool = True
    #: Post-hoc monitoring (docs/monitoring.md): the process that owns the replica runs
    #: `yibao risk run` (the days since the last run, up to yesterday) daily at this platform
    #: time ("HH:MM"), or never (`off`).
    risk_schedule: str = Field(default="02:30", pattern=r"^(off|([01]\d|2[0-3]):[0-5]\d)$")
    #: The change feed (docs/feed.md): publish every change-log record to this NATS JetStream
    #: server (nats://host:4222); unset, no feed. A broker that is down only makes the feed lag.
    feed_url: str | None = None
    feed_stream: str = Field(default="YIBAO_CHANGES", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    #: records per publish batch (each batch is acknowledged before the position moves)
    feed_batch: int = Field(default=500, ge=1, le=10_000)
    #: Unmasking personal data in the console (issue 17, docs/console.md): at most this many
    #: unmaskings per user in a sliding hour (beyond: 429, and an alert for the secadmin);
    #: an alert once a user reaches `unmask_alert_per_hour` unmaskings or
    #: `unmask_alert_records` persons shown unmasked within the hour.
    unmask_limit_per_hour: int = Field(default=30, ge=1, le=10_000)
    unmask_alert_per_hour: int = Field(default=20, ge=1, le=10_000)
    unmask_alert_records: int = Field(default=200, ge=1, le=1_000_000)
    #: Unmasking outside these hours (platform time, "HH:MM-HH:MM") raises an alert too.
    unmask_office_hours: str = Field(default="07:00-21:00", pattern=r"^\d\d:\d\d-\d\d:\d\d$")
    #: The audit trail is kept at least this many days; `yibao audit purge` removes only older
    #: records (网络安全法 Art. 21: network logs ≥ 6 months; docs/audit.md).
    audit_retention_days: int = Field(default=180, ge=180, le=36_500)
    #: A rotated credential stays valid this many seconds beside its successor, so that
    #: clients can switch without a refused call (docs/interface.md §2).
    credential_overlap_s: int = Field(default=86_400, ge=0, le=90 * 86_400)
    #: Node number (0–31) of this process among id generators on a shared store.
    node_id: int = 0
    #: Log level (DEBUG, INFO, WARNING, ERROR) and format: `text` lines, or `json` lines for a
    #: log collector (docs/operations.md); both carry a request id.
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    #: Gateway processes of `yibao serve` on one port (MySQL-protocol stores only; SQLite has
    #: one writer per file, so it runs one).
    workers: int = Field(default=1, ge=1, le=32)
    #: `GET /readyz` says not ready while the columnar replica is more than this many
    #: milliseconds behind the row store.
    ready_max_lag_ms: int = Field(default=30_000, ge=0, le=86_400_000)
    #: Connections per gateway process in the row store's pool (MySQL protocol; each process
    #: may open twice this many under a burst).
    mysql_pool_size: int = Field(default=8, ge=1, le=256)
    #: The MySQL driver: `auto` (mysqlclient, the C driver, when it is installed; else
    #: PyMySQL), `mysqlclient` or `pymysql`.
    mysql_driver: Literal["auto", "mysqlclient", "pymysql"] = "auto"
    #: Write jobs a gateway process runs at once on the MySQL protocol (each on a thread of
    #: its own, one transaction each). Few: a job spends most of its time waiting for the
    #: server, and every further thread adds hand-offs of Python's interpreter lock, not
    #: throughput (docs/operations.md, "Threads per gateway").
    mysql_write_threads: int = Field(default=2, ge=1, le=64)
    #: Threads of a gateway process for the national interface's reads (1101, 2206 … on the
    #: MySQL protocol; lookups that are not the SQLite writer's).
    read_threads: int = Field(default=2, ge=1, le=64)
    #: Send the writes a call never reads back (the change log, accumulators, fund rows, the
    #: kept answer) with the transaction's next statement or its COMMIT, as one
    #: multi-statement request (`storage.deferred`); off: one round trip each.
    mysql_multi_statements: bool = True

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not (value.startswith("sqlite") or value.startswith("mysql")):
            raise ValueError(
                "YIBAO_DATABASE_URL must start with sqlite:/// or mysql+pymysql:// "
                f"(got '{value[:40]}')"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        name = value.strip().upper()
        if name not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("YIBAO_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return name

    @field_validator("node_id")
    @classmethod
    def _check_node(cls, value: int) -> int:
        if not 0 <= value < 32:
            raise ValueError("YIBAO_NODE_ID must be within 0..31")
        return value

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'yibao.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def replica_path(self) -> Path:
        return self.data_dir / "replica.duckdb"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and ``<data_dir>/yibao.toml``; errors are one line."""
    data_dir = Path(
        overrides.get("data_dir") or os.environ.get("YIBAO_DATA_DIR") or DEFAULT_DATA_DIR
    )
    toml_path = data_dir / "yibao.toml"

    class _Settings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _TomlSource(settings_cls, toml_path))

    try:
        settings = _Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigError(f"配置错误 {where}: {first.get('msg')}") from None
    return Settings.model_validate(settings.model_dump())
