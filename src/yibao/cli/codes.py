"""`yibao codes …` — validate national codes, list the kinds and dictionaries."""

from __future__ import annotations

import typer

from yibao.cli.common import console, err_console
from yibao.codes.dictionary import UnknownDictionary, dictionary
from yibao.codes.validators import CodeKind, UnknownKind, validate

app = typer.Typer(
    help="国家医保编码: 校验编码, 列出编码种类与字典 (validate national codes; list kinds and dictionaries).",
    no_args_is_help=True,
)


def _kinds_text() -> str:
    return "\n".join(f"{k.value}\t{k.label}" for k in CodeKind)


@app.command("validate")
def validate_cmd(
    kind: str = typer.Argument(..., help="编码种类 (see `yibao codes list-kinds`)"),
    value: str = typer.Argument(..., help="要校验的编码 (the code to check)"),
) -> None:
    """Check one code: exit 0 when valid, 1 when invalid (with the reason), 2 for an unknown kind."""
    try:
        result = validate(kind, value)
    except UnknownKind as exc:
        err_console.print(str(exc), highlight=False, soft_wrap=True)
        err_console.print(_kinds_text(), highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    if result.valid:
        console.print(f"有效 valid: {result.kind.value} {value}", highlight=False, markup=False)
        for note in result.notes:
            console.print(f"  注意 note: {note}", highlight=False, markup=False, soft_wrap=True)
        return
    console.print(
        f"无效 invalid: {result.kind.value} {value}: {result.reason}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)


@app.command("list-kinds")
def list_kinds() -> None:
    """One kind a line: its name, a tab, and its Chinese description."""
    for k in CodeKind:
        typer.echo(f"{k.value}\t{k.label}")


@app.command("dict")
def show_dictionary(
    name: str = typer.Argument(..., help="字典名 e.g. insutype, med_type, caty"),
) -> None:
    """Print a dictionary's values and labels (value, a tab, label)."""
    try:
        entries = dictionary(name)
    except UnknownDictionary as exc:
        err_console.print(str(exc), highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    for entry in entries:
        typer.echo(f"{entry.value}\t{entry.label}")
