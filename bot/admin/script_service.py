"""Console operations on dialog scripts: validate as staff type, save drafts, publish, roll back."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.forms.registry import DRAFT_PREFIX, ScriptRegistry
from bot.forms.script import Script
from bot.forms.validate import Problem, has_errors, validate_text
from bot.forms.versions import ScriptVersion, SqlScriptVersions
from bot.staff.audit import record
from bot.storage.db import Database

MAX_SCRIPT_CHARS = 200_000


@dataclass(frozen=True)
class Checked:
    script: Script | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.script is not None and not has_errors(self.problems)

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "errors": sum(p.severity == "error" for p in self.problems),
            "warnings": sum(p.severity == "warning" for p in self.problems),
            "problems": [{"line": p.line, "message": p.message, "fix": p.fix, "severity": p.severity}
                         for p in self.problems],
            "hash": self.script.content_hash if self.script else None,
        }


def check(registry: ScriptRegistry, text: str, script_id: str) -> Checked:
    """The same validator as `kawasaki-bot dialogs validate`, plus: the id must stay the same."""
    if len(text) > MAX_SCRIPT_CHARS:
        return Checked(None, [Problem("", 1, "シナリオが長すぎます。", f"{MAX_SCRIPT_CHARS}文字以内にしてください。")])
    script, problems = validate_text(text, str(registry.dir / f"{script_id}.yml"), base_dir=registry.dir)
    if script is not None and script.id != script_id:
        problems = [Problem("", 1, f"id は「{script_id}」のままにしてください（いまは「{script.id}」）。",
                            "別のシナリオを作るときは、開発担当に相談してください。"), *problems]
    return Checked(script, problems)


class ScriptService:
    def __init__(self, db: Database, registry: ScriptRegistry) -> None:
        self.db = db
        self.registry = registry
        self.versions = SqlScriptVersions(db)

    def save_draft(self, script_id: str, text: str, *, actor: str) -> tuple[Checked, str | None]:
        """Store a valid draft for the simulator; returns the procedure id that starts it."""
        checked = check(self.registry, text, script_id)
        if not checked.ok or checked.script is None:
            return checked, None
        script = checked.script
        self.versions.save(script_id, "draft", text, script.content_hash, author=actor)
        self.registry.snapshots.put(script.content_hash, script.bundle_text())
        return checked, DRAFT_PREFIX + script.content_hash

    def publish(self, script_id: str, text: str, *, actor: str, note: str = "",
                action: str = "script.publish") -> tuple[Checked, ScriptVersion | None]:
        checked = check(self.registry, text, script_id)
        if not checked.ok or checked.script is None:
            return checked, None
        live = self.registry.by_id(script_id)
        if live is not None and live.content_hash == checked.script.content_hash:
            return Checked(checked.script, [Problem("", 1, "公開中の内容と同じです。", "変更してから公開してください。")]), None
        script = checked.script
        self.registry.snapshots.put(script.content_hash, script.bundle_text())
        row = self.versions.save(script_id, "published", text, script.content_hash, author=actor, note=note)
        before = _summary(live)
        after = f"公開 v{row.number} version={script.version} hash={script.content_hash[:12]}"
        added, removed = _diff_counts(live.text if live else "", text)
        with self.db.session() as s:
            record(s, actor, action, f"script:{script_id}", before, after, added=added, removed=removed,
                   version_row=row.id, note=note[:300])
        self.registry.refresh(force=True)
        return checked, row

    def rollback(self, script_id: str, row_id: int, *, actor: str) -> tuple[Checked, ScriptVersion | None]:
        old = self.versions.get(row_id)
        if old is None or old.script_id != script_id:
            return Checked(None, [Problem("", 1, "その版は見つかりません。", "履歴から選び直してください。")]), None
        return self.publish(script_id, old.text, actor=actor, note=f"v{old.number} に戻す", action="script.rollback")


def _summary(script: Script | None) -> str:
    if script is None:
        return "（なし）"
    return f"version={script.version} hash={script.content_hash[:12]}"


def _diff_counts(a: str, b: str) -> tuple[int, int]:
    added = removed = 0
    for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def diff_lines(a: str, b: str) -> list[tuple[str, str]]:
    """(kind, text) rows of a unified diff: kind is "add", "del", "hunk" or "same"."""
    rows: list[tuple[str, str]] = []
    for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=3):
        if line.startswith(("+++", "---")):
            continue
        if line.startswith("@@"):
            rows.append(("hunk", line))
        elif line.startswith("+"):
            rows.append(("add", line[1:]))
        elif line.startswith("-"):
            rows.append(("del", line[1:]))
        else:
            rows.append(("same", line[1:]))
    return rows
