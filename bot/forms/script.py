"""A parsed dialog script (dialogs/*.yml) plus the data tables it refers to, with a content hash.

The hash covers the script text and every data table it uses, so a resident who started on one
version (including one fee table) can finish on exactly that version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ScriptError(ValueError):
    """The script text cannot be read at all (YAML syntax, not a mapping, missing data file)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def table_refs(data: Mapping[str, Any]) -> list[str]:
    """Relative paths of the data tables a script uses (slot option `table`)."""
    refs: list[str] = []
    for slot in data.get("slots") or []:
        if isinstance(slot, Mapping) and isinstance(slot.get("table"), str) and slot["table"] not in refs:
            refs.append(slot["table"])
    return refs


def content_hash(text: str, table_texts: Mapping[str, str]) -> str:
    blob = json.dumps({"script": text, "tables": dict(sorted(table_texts.items()))}, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Script:
    data: dict[str, Any]
    text: str
    table_texts: dict[str, str] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    content_hash: str = ""

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_text(
        cls, text: str, *, path: str | None = None, base_dir: str | Path | None = None,
        table_texts: Mapping[str, str] | None = None,
    ) -> Script:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            detail = " ".join(str(getattr(exc, "problem", None) or exc).split())
            raise ScriptError(f"YAML の書き方に誤りがあります（{detail}）。", mark.line + 1 if mark else None) from exc
        if not isinstance(data, dict):
            raise ScriptError("ファイルの中身が「項目: 値」の形（マッピング）になっていません。", 1)
        texts: dict[str, str] = dict(table_texts or {})
        for ref in table_refs(data):
            if ref in texts:
                continue
            if base_dir is None:
                raise ScriptError(f"データ表 {ref} を読み込めません（場所が不明です）。")
            table_path = Path(base_dir) / ref
            try:
                texts[ref] = table_path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ScriptError(f"データ表 {ref} が見つかりません。") from exc
        tables: dict[str, Any] = {}
        for ref, ttext in texts.items():
            try:
                tables[ref] = yaml.safe_load(ttext)
            except yaml.YAMLError as exc:
                raise ScriptError(f"データ表 {ref} の YAML に誤りがあります: {exc}") from exc
        return cls(data=data, text=text, table_texts=texts, tables=tables, path=path,
                   content_hash=content_hash(text, texts))

    @classmethod
    def from_file(cls, path: str | Path, base_dir: str | Path | None = None) -> Script:
        p = Path(path)
        return cls.from_text(p.read_text(encoding="utf-8"), path=str(p),
                             base_dir=base_dir if base_dir is not None else p.parent)

    def bundle_text(self) -> str:
        """Everything needed to rebuild this exact version (what the snapshot store keeps)."""
        return json.dumps({"script": self.text, "tables": self.table_texts, "path": self.path}, ensure_ascii=False)

    @classmethod
    def from_bundle(cls, bundle: str) -> Script:
        obj = json.loads(bundle)
        return cls.from_text(obj["script"], path=obj.get("path"), table_texts=obj.get("tables") or {})

    # -- accessors ----------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return str(self.data.get("id", ""))

    @property
    def procedure_id(self) -> str:
        return str(self.data.get("procedure_id", ""))

    @property
    def name(self) -> str:
        return str(self.data.get("procedure_name", ""))

    @property
    def version(self) -> str:
        return str(self.data.get("version", ""))

    @property
    def slots(self) -> list[dict[str, Any]]:
        return [s for s in self.data.get("slots") or [] if isinstance(s, dict)]

    @property
    def slot_ids(self) -> list[str]:
        return [str(s.get("id")) for s in self.slots]

    def slot(self, slot_id: str) -> dict[str, Any]:
        for s in self.slots:
            if s.get("id") == slot_id:
                return s
        raise KeyError(slot_id)

    @property
    def owner(self) -> dict[str, Any]:
        return self.data.get("owner") or {}

    def table(self, ref: str) -> Any:
        return self.tables.get(ref)
