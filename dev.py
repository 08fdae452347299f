#!/usr/bin/env python3
"""yibao's task runner — the README's two commands, standard library only.

    python3 dev.py run     # venv + install + init + demo city + serve on http://127.0.0.1:8000
    python3 dev.py test    # venv + install + the whole test suite (extra args go to pytest)

Both create `.venv/` at the repository root on first use and reinstall only when
pyproject.toml changes. Both are safe to run again; nothing prompts.

The venv is made from the distribution's Python (`/usr/bin/python3`) when it is 3.11 or newer
and can make one, else from the Python running this file; `YIBAO_PYTHON=/path/to/python`
chooses another. Distribution builds (Debian, Ubuntu, Fedora) and the official container images
(the Dockerfile's) are compiled with profile-guided and link-time optimisation; a plain source
build — pyenv's default — is not, and the server answered ~20 % fewer calls a second on it
(docs/bench.md, "The interpreter"). A venv made from another interpreter than the one chosen
is made again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".yibao-install-stamp"
#: where a distribution keeps its own (optimised) build of CPython
DISTRIBUTION_PYTHON = "/usr/bin/python3"
#: exits 0 when the interpreter is 3.11+ and has what `-m venv` needs to make a venv with pip
_CAN_MAKE_VENV = "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))"


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    result = subprocess.run(cmd, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.exit(result.returncode)


def _real(python: str) -> str:
    """The interpreter's own executable (a venv's `python` resolves to its base's)."""
    found = subprocess.run(
        [python, "-c", "import sys; print(sys._base_executable)"],
        capture_output=True,
        text=True,
    )
    return os.path.realpath(found.stdout.strip() if found.returncode == 0 else python)


def base_python() -> str:
    """The interpreter `.venv` is made from (see the module doc)."""
    chosen = os.environ.get("YIBAO_PYTHON")
    if chosen:
        probe = subprocess.run([chosen, "-c", _CAN_MAKE_VENV], capture_output=True)
        if probe.returncode != 0:
            sys.exit(
                f"YIBAO_PYTHON={chosen}: not a Python 3.11+ that can make a venv "
                "(install its venv module, e.g. apt-get install python3-venv, or unset YIBAO_PYTHON)"
            )
        return chosen
    if os.path.exists(DISTRIBUTION_PYTHON):
        probe = subprocess.run([DISTRIBUTION_PYTHON, "-c", _CAN_MAKE_VENV], capture_output=True)
        if probe.returncode == 0:
            return DISTRIBUTION_PYTHON
    return sys.executable


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit("yibao needs Python 3.11 or newer (found %d.%d)" % sys.version_info[:2])
    base = base_python()
    real = _real(base)
    # the stamp: the install's pyproject hash, then the interpreter it was made from (a path
    # may hold spaces: one per line)
    stamp = STAMP.read_text().splitlines() if STAMP.exists() else []
    made_from = stamp[1] if len(stamp) > 1 else None
    if PY.exists() and made_from != real:
        say(f"making .venv again from {real} (it was made from {made_from or 'another Python'})")
        shutil.rmtree(VENV)
    if not PY.exists():
        say(f"creating virtual environment {VENV} from {real}")
        run([base, "-m", "venv", str(VENV)])
        stamp = []
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp[:1] == [wanted]:
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
    STAMP.write_text(f"{wanted}\n{real}\n")


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
