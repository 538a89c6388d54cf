"""Read the versioned catalog file (bot/catalog/procedures.yml)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.catalog.schema import CatalogData, CatalogError, validate_procedures

DEFAULT_CATALOG_FILE = Path(__file__).resolve().parent / "procedures.yml"


def load_catalog_file(path: Path | str = DEFAULT_CATALOG_FILE) -> CatalogData:
    """Parse and validate a catalog YAML file; raises CatalogError (Japanese messages)."""
    path = Path(path)
    source = path.name
    try:
        with path.open(encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except FileNotFoundError:
        raise CatalogError([f"ファイル {path} が見つかりません。"], source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.line + 1}行目付近" if mark else "どこか"
        raise CatalogError([f"YAML の書き方に誤りがあります（{where}）: {exc}"], source) from None
    if not isinstance(doc, dict):
        raise CatalogError(["ファイルの一番上に version / schema / procedures を書いてください。"], source)
    errors = []
    version = doc.get("version")
    if version is None or str(version).strip() == "":
        errors.append("version（データの版）がありません。")
    schema = doc.get("schema", 1)
    if not isinstance(schema, int) or isinstance(schema, bool):
        errors.append(f"schema「{schema}」は整数にしてください。")
    if errors:
        raise CatalogError(errors, source)
    procedures = validate_procedures(doc.get("procedures"), str(version), "repo", source)
    return CatalogData(version=str(version), schema=schema, procedures=procedures, source=str(path))
