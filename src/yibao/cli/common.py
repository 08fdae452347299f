"""What every command shares: settings, one-line errors, the console."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from yibao.config import Settings, load_settings
from yibao.errors import YibaoError
from yibao.obs import logs

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]错误[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn yibao's errors into a one-line message and a non-zero exit (no traceback)."""
    try:
        yield
    except YibaoError as exc:
        fail(exc.message)
    except KeyboardInterrupt:
        fail("已中断 (interrupted)", 130)


def settings() -> Settings:
    with friendly_errors():
        loaded = load_settings()
    logs.configure(loaded.log_level, loaded.log_format, stream=sys.stderr)
    return loaded
