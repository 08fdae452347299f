"""House rules that CI enforces: ruff clean everywhere, mypy strict on the whole package, and
the layer contracts of pyproject.toml (`lint-imports`, docs/architecture.md)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", "src", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_whole_package() -> None:
    # strict = true in pyproject.toml's [tool.mypy]; `packages` names the whole of yibao
    result = _run("mypy", "--no-incremental")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_layer_contracts_hold() -> None:
    # lint-imports has no `python -m` entry point; the venv's script sits beside python
    script = Path(sys.executable).with_name("lint-imports")
    command = str(script) if script.exists() else shutil.which("lint-imports")
    assert command, "lint-imports is not installed (pip install -e .[dev])"
    result = subprocess.run([command], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
