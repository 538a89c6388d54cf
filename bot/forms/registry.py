"""Loaded dialog scripts, reloaded when staff edit a file, with every version kept reachable.

A resident's form state records the script's content hash; `get(script_id, hash)` returns exactly
that version — from memory, or from the snapshot store (shared by all workers; the lead backs it
with SQL) — so an edit never changes a form in progress. An edited file that fails validation is
rejected and logged; the previous version stays live.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.forms.script import Script, ScriptError, table_refs
from bot.forms.validate import Problem, has_errors, script_files, validate_text

log = logging.getLogger(__name__)


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
                 check_interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.dir = Path(dialogs_dir)
        self.snapshots: SnapshotStore = snapshot_store if snapshot_store is not None else InMemorySnapshotStore()
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
        self.refresh()
        with self._lock:
            for script in self._live.values():
                if script.procedure_id == procedure_id:
                    return script
        return None

    def by_id(self, script_id: str) -> Script | None:
        self.refresh()
        with self._lock:
            return next((s for s in self._live.values() if s.id == script_id), None)

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
            return sorted(self._live.values(), key=lambda s: s.id)

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
