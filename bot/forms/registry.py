"""Loaded dialog scripts, reloaded when staff edit a file, with every version kept reachable.

A resident's form state records the script's content hash; `get(script_id, hash)` returns exactly
that version — from memory, or from the snapshot store (shared by all workers; the lead backs it
with SQL) — so an edit never changes a form in progress. An edited file that fails validation is
rejected and logged; the previous version stays live.

Versions published in the staff console (bot/forms/versions.py, SQL) override the repository file
with the same script id. Every process notices a publish within `check_interval` (one indexed
max(id) query per interval) and loads it without a restart. A draft saved in the console is reachable
as procedure id `draft:<content hash>` (the simulator starts it that way); the hash is unguessable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from bot.forms.script import Script, ScriptError, table_refs
from bot.forms.validate import Problem, has_errors, script_files, validate_text

log = logging.getLogger(__name__)


DRAFT_PREFIX = "draft:"


class VersionSource(Protocol):
    """Published / draft script texts (bot.forms.versions.SqlScriptVersions)."""

    def marker(self) -> int: ...

    def live(self) -> dict[str, Any]: ...  # script_id → object with .text and .number

    def draft_text(self, content_hash: str) -> str | None: ...


class SnapshotStore(Protocol):
    def put(self, content_hash: str, text: str) -> None: ...

    def get(self, content_hash: str) -> str | None: ...


class InMemorySnapshotStore:
    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._lock = threading.Lock()

    def put(self, content_hash: str, text: str) -> None:
        with self._lock:
            self._data.setdefault(content_hash, text)

    def get(self, content_hash: str) -> str | None:
        with self._lock:
            return self._data.get(content_hash)


@dataclass(frozen=True)
class Rejected:
    path: str
    problems: tuple[Problem, ...]


class ScriptRegistry:
    def __init__(self, dialogs_dir: str | Path, snapshot_store: SnapshotStore | None = None, *,
                 check_interval: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 versions: VersionSource | None = None) -> None:
        self.dir = Path(dialogs_dir)
        self.snapshots: SnapshotStore = snapshot_store if snapshot_store is not None else InMemorySnapshotStore()
        if versions is None:
            versions = _sql_versions_for(self.snapshots)
        self.versions = versions
        self._marker: int | None = None
        self._published: dict[str, Script] = {}  # script id → live published version (overrides the file)
        self.published_numbers: dict[str, int] = {}
        self.rejected_published: dict[str, Rejected] = {}
        self.check_interval = check_interval
        self._clock = clock
        self._lock = threading.RLock()
        self._last_check: float | None = None
        self._stamps: dict[Path, tuple[tuple[int, int], ...]] = {}  # file → (mtime_ns, size) of it + tables
        self._live: dict[Path, Script] = {}  # file → current valid version
        self._by_hash: dict[str, Script] = {}
        self.rejected: dict[Path, Rejected] = {}
        self.refresh(force=True)

    # -- lookups --------------------------------------------------------------------------------
    def current(self, procedure_id: str) -> Script | None:
        """The live script for a catalog procedure id (None if there is none)."""
        if procedure_id.startswith(DRAFT_PREFIX):
            return self.draft(procedure_id[len(DRAFT_PREFIX):])
        self.refresh()
        with self._lock:
            for script in self._effective().values():
                if script.procedure_id == procedure_id:
                    return script
        return None

    def by_id(self, script_id: str) -> Script | None:
        self.refresh()
        with self._lock:
            return self._effective().get(script_id)

    def get(self, script_id: str, content_hash: str) -> Script | None:
        """The exact version a form was started on (memory, then the snapshot store)."""
        with self._lock:
            script = self._by_hash.get(content_hash)
        if script is None:
            text = self.snapshots.get(content_hash)
            if text is None:
                return None
            try:
                script = Script.from_bundle(text)
            except (ScriptError, ValueError, KeyError):
                log.exception("snapshot %s cannot be read", content_hash)
                return None
            with self._lock:
                self._by_hash[content_hash] = script
        return script if script.id == script_id else None

    def all(self) -> list[Script]:
        self.refresh()
        with self._lock:
            return sorted(self._effective().values(), key=lambda s: s.id)

    def file_script(self, script_id: str) -> Script | None:
        """The repository file's version, ignoring what was published in the console."""
        self.refresh()
        with self._lock:
            return next((s for s in self._live.values() if s.id == script_id), None)

    def draft(self, content_hash: str) -> Script | None:
        """A draft saved in the console (for the simulator); None unless it is stored and valid."""
        with self._lock:
            script = self._by_hash.get(content_hash)
        if script is not None:
            return script
        text = self.versions.draft_text(content_hash) if self.versions is not None else None
        if text is None:
            return None
        script = self._validated(text, self._virtual_path(text))
        if script is None or script.content_hash != content_hash:
            return None
        self.snapshots.put(script.content_hash, script.bundle_text())
        with self._lock:
            self._by_hash[script.content_hash] = script
        return script

    def _effective(self) -> dict[str, Script]:
        """Script id → live version: repository files, overridden by console publications."""
        view = {s.id: s for s in self._live.values()}
        view.update(self._published)
        return view

    # -- reloading ------------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        """Reload changed files; cheap (a stat per file) and at most once per check_interval."""
        now = self._clock()
        with self._lock:
            if not force and self._last_check is not None and now - self._last_check < self.check_interval:
                return
            self._last_check = now
            files = script_files([self.dir]) if self.dir.is_dir() else []
            for gone in set(self._live) - set(files):
                log.info("dialog script removed: %s", gone)
                self._live.pop(gone, None)
                self._stamps.pop(gone, None)
            for path in files:
                stamp = self._stamp(path)
                if stamp is None or self._stamps.get(path) == stamp:
                    continue
                self._stamps[path] = stamp
                self._load(path)
            self._refresh_published(force)

    def _refresh_published(self, force: bool) -> None:
        if self.versions is None:
            return
        try:
            marker = self.versions.marker()
            if not force and marker == self._marker:
                return
            live = self.versions.live()
        except Exception as exc:  # the database may be down for a moment; the current versions stay live
            log.warning("published dialog scripts not checked: %s", type(exc).__name__)
            return
        self._marker = marker
        for script_id in set(self._published) - set(live):
            self._published.pop(script_id, None)
            self.published_numbers.pop(script_id, None)
        for script_id, row in live.items():
            current = self._published.get(script_id)
            if current is not None and self.published_numbers.get(script_id) == row.number:
                continue
            script = self._validated(row.text, str(self.dir / f"{script_id}.yml"), published_id=script_id)
            if script is None or script.id != script_id:
                continue
            self.snapshots.put(script.content_hash, script.bundle_text())
            self._by_hash[script.content_hash] = script
            self._published[script_id] = script
            self.published_numbers[script_id] = row.number
            log.info("published dialog script loaded: %s v%s (%s)", script_id, row.number, script.content_hash[:12])

    def _validated(self, text: str, rel: str, *, published_id: str | None = None) -> Script | None:
        script, problems = validate_text(text, rel, base_dir=self.dir)
        if script is None or has_errors(problems):
            if published_id:
                self.rejected_published[published_id] = Rejected(rel, tuple(problems))
            log.error("dialog script %s from the console rejected", rel)
            return None
        if published_id:
            self.rejected_published.pop(published_id, None)
        return script

    def _virtual_path(self, text: str) -> str:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            data = None
        sid = data.get("id") if isinstance(data, dict) else None
        return str(self.dir / f"{sid or 'draft'}.yml")

    def _stamp(self, path: Path) -> tuple[tuple[int, int], ...] | None:
        try:
            st = path.stat()
            stamps = [(st.st_mtime_ns, st.st_size)]
            live = self._live.get(path)
            for ref in table_refs(live.data) if live else []:
                try:
                    tst = (self.dir / ref).stat()
                    stamps.append((tst.st_mtime_ns, tst.st_size))
                except OSError:
                    stamps.append((0, 0))
            return tuple(stamps)
        except OSError:
            return None

    def _load(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            log.error("dialog script %s cannot be read: %s", path, exc)
            return
        rel = str(path)
        script, problems = validate_text(text, rel, base_dir=self.dir)
        if script is None or has_errors(problems):
            self.rejected[path] = Rejected(rel, tuple(problems))
            kept = "the previous version stays live" if path in self._live else "not loaded"
            log.error("dialog script %s rejected (%s):\n%s", rel, kept,
                      "\n".join(p.format() for p in problems if p.severity == "error"))
            return
        self.rejected.pop(path, None)
        if self._live.get(path) and self._live[path].content_hash == script.content_hash:
            return
        for other_path, other in self._live.items():
            if other_path != path and other.id == script.id:
                self.rejected[path] = Rejected(rel, ())
                log.error("dialog script %s rejected: id %s is already used by %s", rel, script.id, other_path)
                return
        self.snapshots.put(script.content_hash, script.bundle_text())
        self._by_hash[script.content_hash] = script
        self._live[path] = script
        self._stamps[path] = self._stamp(path) or ()
        log.info("dialog script loaded: %s %s@%s (%s)", rel, script.id, script.version, script.content_hash[:12])


def _sql_versions_for(snapshots: SnapshotStore) -> VersionSource | None:
    """With SQL snapshots (the running bot), console publications come from the same database."""
    db = getattr(snapshots, "db", None)
    if db is None:
        return None
    from bot.forms.versions import SqlScriptVersions

    return SqlScriptVersions(db)
