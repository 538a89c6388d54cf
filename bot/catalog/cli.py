"""`kawasaki-bot catalog ...`: check, load and search the procedure catalog (for staff and CI)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.catalog.loader import DEFAULT_CATALOG_FILE, load_catalog_file
from bot.catalog.schema import CatalogError


def _sessions():
    from bot.config import load_settings
    from bot.storage.db import Database

    return Database(load_settings().database_url).sessions


@click.group("catalog")
def catalog() -> None:
    """手続カタログ（bot/catalog/procedures.yml と市の手続一覧CSV）."""


@catalog.command("validate")
@click.argument("path", type=click.Path(path_type=Path), default=DEFAULT_CATALOG_FILE)
def validate_command(path: Path) -> None:
    """Check a catalog YAML file (or a CSV with --csv columns) without touching the database."""
    try:
        if path.suffix.lower() == ".csv":
            from bot.catalog.csv_import import read_catalog_csv

            n = len(read_catalog_csv(path))
            click.echo(f"OK: {n} 件の手続（{path.name}）")
        else:
            data = load_catalog_file(path)
            click.echo(f"OK: {len(data.procedures)} 件の手続（{path.name}、版 {data.version}）")
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None


@catalog.command("sync")
@click.option("--file", "path", type=click.Path(path_type=Path), default=DEFAULT_CATALOG_FILE)
@click.option("--force", is_flag=True, help="Apply even when the database holds a newer version.")
def sync_command(path: Path, force: bool) -> None:
    """Load the catalog file into DATABASE_URL (idempotent)."""
    from bot.catalog.sync import sync_catalog

    try:
        data = load_catalog_file(path)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None
    with _sessions()() as session:
        res = sync_catalog(session, data, force=force)
        session.commit()
    if res.skipped:
        raise click.ClickException(res.skipped)
    click.echo(f"版 {data.version}: 追加 {len(res.inserted)}、更新 {len(res.updated)}、削除 {len(res.deleted)}、"
               f"変更なし {res.unchanged}")


@catalog.command("import")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(csv_path: Path) -> None:
    """Import the city's full procedure list (CSV, columns in docs/catalog-import.md)."""
    from bot.catalog.csv_import import import_csv

    with _sessions()() as session:
        try:
            res = import_csv(session, csv_path)
        except CatalogError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(f"取り込み: 追加 {len(res.inserted)}、更新 {len(res.updated)}、削除 {len(res.deleted)}、"
               f"変更なし {res.unchanged}")


@catalog.command("search")
@click.argument("text")
@click.option("-k", default=5, show_default=True)
@click.option("--db", "use_db", is_flag=True, help="Search the catalog in DATABASE_URL instead of the file.")
def search_command(text: str, k: int, use_db: bool) -> None:
    """Keyword search over the catalog (no NLU), one JSON object per hit."""
    from bot.catalog.service import get_catalog

    cat = get_catalog(_sessions() if use_db else None)
    for hit in cat.search(text, k):
        p = hit.procedure
        click.echo(json.dumps({"id": p.id, "name": p.name, "channel": p.channel, "score": round(hit.score, 4)},
                              ensure_ascii=False))
