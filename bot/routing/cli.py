"""`kawasaki-bot route`: text -> procedure, one JSON object per input line (contract in ARCHITECTURE.md)."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import click

from bot.catalog.index import Catalog
from bot.catalog.service import catalog_from_file, get_catalog
from bot.nlu.embedded import DEFAULT_CACHE_DIR
from bot.nlu.service import Nlu, get_nlu
from bot.routing.router import route


def _utf8(stream: Any) -> Any:
    """Force UTF-8 whatever the locale says (the contract is UTF-8 in and out)."""
    with contextlib.suppress(AttributeError, io.UnsupportedOperation, ValueError):
        stream.reconfigure(encoding="utf-8", errors="replace")
    return stream


def route_json(nlu: Nlu, catalog: Catalog, text: str) -> str:
    return json.dumps(route(nlu.parse(text), catalog, text).to_json(), ensure_ascii=False)


@click.command("route")
@click.argument("text", required=False)
@click.option("--catalog", "catalog_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Catalog YAML file (default: the app's catalog).")
@click.option("--nlu-data", type=click.Path(exists=True, path_type=Path), default=None,
              help="Rasa NLU data directory for the embedded NLU (default: nlu_data/).")
@click.option("--nlu-cache", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_CACHE_DIR,
              hidden=True, help="Where the trained embedded NLU is cached.")
def route_command(text: str | None, catalog_file: Path | None, nlu_data: Path | None, nlu_cache: Path) -> None:
    """Route TEXT, or each UTF-8 line of stdin, to a procedure; print one JSON object per line."""
    catalog = catalog_from_file(catalog_file) if catalog_file else get_catalog()
    nlu = get_nlu(nlu_data, cache_dir=nlu_cache)
    out = _utf8(sys.stdout)
    if text is not None:
        out.write(route_json(nlu, catalog, text) + "\n")
        out.flush()
        return
    stdin = _utf8(sys.stdin)
    for line in stdin:
        line = line.rstrip("\r\n")
        out.write(route_json(nlu, catalog, line) + "\n")
        out.flush()  # one answer per line as soon as it is ready (pipes are block-buffered)


if __name__ == "__main__":
    sys.exit(route_command())
