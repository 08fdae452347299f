"""The container files, checked as text (no container daemon or registry on this machine):
a multi-stage image that runs as a non-root user, checks its health on /healthz, takes its
settings from the environment, and a compose file with yibao, MariaDB and NATS whose yibao
settings are all real settings."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import yaml

from yibao.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    steps = _instructions((ROOT / "Dockerfile").read_text())
    froms = [rest for word, rest in steps if word == "FROM"]
    assert len(froms) >= 2 and " AS " in froms[0].upper()
    assert any(word == "COPY" and rest.startswith("--from=") for word, rest in steps)
    users = [rest for word, rest in steps if word == "USER"]
    assert users and not users[-1].startswith(("root", "0"))
    # the last USER comes after every RUN: nothing runs as root in the final image's start
    last_user = max(i for i, (word, _) in enumerate(steps) if word == "USER")
    final_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    assert last_user > final_from
    checks = [rest for word, rest in steps if word == "HEALTHCHECK"]
    assert len(checks) == 1 and "/healthz" in checks[0]
    assert not any(word == "ADD" and "http" in rest for word, rest in steps)
    env = " ".join(rest for word, rest in steps if word == "ENV")
    fields = set(Settings.model_fields)
    for name in re.findall(r"YIBAO_([A-Z_]+)=", env):
        assert name.lower() in fields, f"YIBAO_{name} is not a setting"
    assert any(word == "EXPOSE" and rest == "8000" for word, rest in steps)


def test_entrypoint_initialises_then_serves() -> None:
    script = ROOT / "deploy" / "docker-entrypoint.sh"
    assert os.stat(script).st_mode & stat.S_IXUSR
    text = script.read_text()
    assert text.startswith("#!/bin/sh") and "yibao init" in text and 'exec yibao "$@"' in text
    assert "deploy/docker-entrypoint.sh" in (ROOT / "Dockerfile").read_text()


def test_compose_runs_yibao_on_mariadb_with_nats_and_real_settings() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"yibao", "mariadb", "nats"} <= set(services)
    yibao = services["yibao"]
    env = yibao["environment"]
    assert env["YIBAO_DATABASE_URL"].startswith("mysql+pymysql://")
    assert "@mariadb:3306/" in env["YIBAO_DATABASE_URL"]
    assert env["YIBAO_FEED_URL"] == "nats://nats:4222"
    fields = set(Settings.model_fields)
    for key in env:
        assert key.startswith("YIBAO_") and key[6:].lower() in fields, f"{key} is not a setting"
    assert yibao["depends_on"]["mariadb"]["condition"] == "service_healthy"
    assert "-js" in services["nats"]["command"]
    assert "healthcheck" in services["mariadb"]
    # no password written into the file: it comes from the operator's environment
    assert "${YIBAO_DB_PASSWORD" in services["mariadb"]["environment"]["MARIADB_PASSWORD"]
    assert any(v.endswith(":/var/lib/yibao") for v in yibao["volumes"])
