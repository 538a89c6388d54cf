"""`kawasaki-bot qr poster` and `kawasaki-bot facilities add|list|seed` (staff commands, Japanese output)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.config import load_settings


def open_db():
    """The configured database; the embedded SQLite file is migrated first so commands just work."""
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade

    settings = load_settings()
    if settings.sqlite:
        upgrade(settings.database_url)
    return settings, Database(settings.database_url)


@click.group("qr")
def qr() -> None:
    """QRコードのポスター。"""


@qr.command("poster")
@click.option("--procedure", "procedure", required=True, help="手続の正式名称または id（例 juminhyo_copy）")
@click.option("--facility", "facility", required=True, help="施設コード（例 ward-kawasaki）")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("posters"),
              show_default=True, help="出力先のフォルダ")
def poster_command(procedure: str, facility: str, out_dir: Path) -> None:
    """A4のポスター（PDF・SVG）とQRコード画像（PNG）を作ります。"""
    from bot.catalog.service import get_catalog
    from bot.qr.service import PosterError, make_poster

    settings, db = open_db()
    try:
        files = make_poster(db, get_catalog(db.sessions), procedure=procedure, facility=facility,
                            basic_id=settings.bot_basic_id, out_dir=out_dir)
    except PosterError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"開始コード: #{files.code}")
    click.echo(f"QRの中身:   {files.start_url}")
    click.echo(f"友だち追加: {files.friend_url}")
    for label, path in (("PDF", files.pdf), ("SVG", files.svg), ("PNG", files.png)):
        click.echo(f"{label}: {path}")


@click.group("facilities")
def facilities_group() -> None:
    """ポスターを置く施設（区役所など）。"""


@facilities_group.command("list")
def list_command() -> None:
    """登録されている施設の一覧。"""
    from bot.qr import facilities

    _, db = open_db()
    try:
        rows = facilities.list_all(db)
    finally:
        db.dispose()
    for f in rows:
        click.echo(f"{f.code}\t{f.name}\t{f.ward or '-'}\t{f.kind}")
    click.echo(f"{len(rows)} 件", err=True)


@facilities_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--ward", default=None, help="区（例 中原区）")
@click.option("--kind", default="other", show_default=True,
              type=click.Choice(["ward_office", "branch_office", "library", "civic_center", "station", "other"]))
@click.option("--address", default=None, help="住所（任意）")
def add_command(code: str, name: str, ward: str | None, kind: str, address: str | None) -> None:
    """施設を登録します。例: kawasaki-bot facilities add library-nakahara 中原図書館 --ward 中原区 --kind library"""
    from bot.qr import facilities

    _, db = open_db()
    try:
        f = facilities.add(db, code, name, ward=ward, kind=kind, address=address)
    except facilities.FacilityError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"登録しました: {f.code} {f.name}")


@facilities_group.command("seed")
def seed_command() -> None:
    """7区の区役所を登録します（足りないものだけ）。"""
    from bot.qr import facilities

    _, db = open_db()
    try:
        added = facilities.seed_ward_offices(db)
    finally:
        db.dispose()
    click.echo(f"{added} 件追加しました")
