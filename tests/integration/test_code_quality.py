"""House rules that CI enforces: ruff clean everywhere, mypy --strict on the packages listed
strict in pyproject.toml (the pure core and the layers below the domain, plus the tools)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_CORE = ["src/yibao/kit", "src/yibao/codes", "src/yibao/policy"]
#: strict through pyproject.toml's override, as the pure core is
STRICT_LAYERS = [
    "src/yibao/errors.py",
    "src/yibao/config.py",
    "src/yibao/storage",
    "src/yibao/replica",
    "src/yibao/analytics",
    "src/yibao/simulate",
    "src/yibao/bench",
    "src/yibao/cli",
]

pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", "src", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_pure_core() -> None:
    result = _run("mypy", "--no-incremental", *PURE_CORE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_lower_layers_and_the_tools() -> None:
    result = _run("mypy", "--no-incremental", *STRICT_LAYERS)
    assert result.returncode == 0, result.stdout + result.stderr
