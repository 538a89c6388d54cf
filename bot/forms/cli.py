"""`kawasaki-bot dialogs …`: validate scripts and preview them in the terminal."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from bot.forms.preview import run_preview
from bot.forms.schema import schema_json
from bot.forms.slots.base import JST
from bot.forms.validate import has_errors, script_files, validate_file

DEFAULT_DIR = "dialogs"


@click.group("dialogs")
def dialogs() -> None:
    """チャットフォームのシナリオ（dialogs/*.yml）を扱います。"""


@dialogs.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate_cmd(paths: tuple[Path, ...]) -> None:
    """シナリオを検査します（省略時は dialogs/ のすべて）。誤りがあれば終了コード1。"""
    files = script_files(paths or [Path(DEFAULT_DIR)])
    if not files:
        click.echo("検査するシナリオがありません。", err=True)
        sys.exit(1)
    errors = warnings = 0
    for f in files:
        base = f.parent
        _, problems = validate_file(f, base_dir=base)
        for p in problems:
            click.echo(p.format())
        errors += sum(p.severity == "error" for p in problems)
        warnings += sum(p.severity == "warning" for p in problems)
    summary = f"{len(files)}ファイルを検査：誤り {errors}件、注意 {warnings}件"
    click.echo(summary, err=True)
    sys.exit(1 if errors else 0)


@dialogs.command("preview")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--today", help="今日の日付として扱う日（YYYY-MM-DD）。日付の質問の確認用。")
def preview_cmd(file: Path, today: str | None) -> None:
    """シナリオをターミナルで試します（何も保存・送信しません）。"""
    script, problems = validate_file(file)
    for p in problems:
        click.echo(p.format(), err=True)
    if script is None or has_errors(problems):
        sys.exit(1)
    now = datetime.fromisoformat(today).replace(hour=10, tzinfo=JST) if today else datetime.now(JST)
    run_preview(script, now=now, output_fn=click.echo, input_fn=_read_line)


def _read_line(prompt: str) -> str:
    click.echo(prompt, nl=False)
    line = sys.stdin.readline()
    if not line:
        click.echo()
        raise EOFError
    return line.rstrip("\n")


@dialogs.command("schema")
def schema_cmd() -> None:
    """JSON Schema を出力します（dialogs/schema.json の内容）。"""
    click.echo(schema_json(), nl=False)
