#!/usr/bin/env python3
"""yibao's task runner — the README's two commands, standard library only.

    python3 dev.py run     # venv + install + init + demo city + serve on http://127.0.0.1:8000
    python3 dev.py test    # venv + install + the whole test suite (extra args go to pytest)

Both create `.venv/` at the repository root on first use and reinstall only when
pyproject.toml changes. Both are safe to run again; nothing prompts.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".yibao-install-stamp"


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    result = subprocess.run(cmd, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit("yibao needs Python 3.11 or newer (found %d.%d)" % sys.version_info[:2])
    if not PY.exists():
        say(f"creating virtual environment {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    say("installing yibao and its dependencies into .venv (first run takes a minute)")
    run(
        [
            str(PY),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--upgrade",
            "pip",
        ]
    )
    run(
        [
            str(PY),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            f"{ROOT}[dev]",
        ]
    )
    # The C MySQL driver builds only where libmariadb-dev and pkg-config are installed; without
    # it yibao uses PyMySQL (docs/operations.md), so a failed build is a note, not an error.
    driver = subprocess.run(
        [
            str(PY),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "mysqlclient>=2.2",
        ],
        capture_output=True,
        text=True,
    )
    if driver.returncode != 0:
        say(
            "mysqlclient not built (apt-get install libmariadb-dev pkg-config for the C driver); using PyMySQL"
        )
    STAMP.write_text(wanted)


def yibao(*args: str) -> None:
    run([str(BIN / "yibao"), *args])


def cmd_run(args: list[str]) -> None:
    ensure_venv()
    yibao("init")
    yibao("demo")
    os.execv(str(BIN / "yibao"), [str(BIN / "yibao"), "serve", *args])


def cmd_test(args: list[str]) -> None:
    ensure_venv()
    env = dict(os.environ)
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    result = subprocess.run([str(PY), "-m", "pytest", *args], cwd=ROOT, env=env)
    sys.exit(result.returncode)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        sys.exit(2)
    command, rest = sys.argv[1], sys.argv[2:]
    {"run": cmd_run, "test": cmd_test}[command](rest)


if __name__ == "__main__":
    main()
