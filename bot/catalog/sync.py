"""Upsert catalog records into SQL (idempotent, version-aware) and read them back."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.catalog.models import Procedure
from bot.catalog.schema import CatalogData, ProcedureRecord

_FIELDS = (
    "name", "category", "audience", "channel", "online_now", "description", "requirements", "apply",
    "contact", "eta", "keywords", "variants", "sources", "unverified", "extra", "catalog_version",
    "origin",
)


@dataclass
class SyncResult:
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: str | None = None  # why nothing was applied

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)


def version_key(version: str) -> tuple[int, ...] | None:
    """"2026.11.2" -> (2026, 11, 2); None when the version has no number to compare."""
    nums = re.findall(r"\d+", version or "")
    return tuple(int(n) for n in nums) if nums else None


def record_from_row(row: Procedure) -> ProcedureRecord:
    return ProcedureRecord(id=row.id, **{f: getattr(row, f) for f in _FIELDS})


def load_records(session: Session) -> list[ProcedureRecord]:
    rows = session.scalars(select(Procedure).order_by(Procedure.id)).all()
    return [record_from_row(r) for r in rows]


def _apply(session: Session, records: list[ProcedureRecord], origin: str, existing: dict[str, Procedure],
           result: SyncResult) -> None:
    for rec in records:
        values = {f: getattr(rec, f) for f in _FIELDS}
        values["origin"] = origin
        row = existing.get(rec.id)
        if row is None:
            session.add(Procedure(id=rec.id, **values))
            result.inserted.append(rec.id)
        elif any(getattr(row, f) != v for f, v in values.items() if f != "catalog_version"):
            for f, v in values.items():
                setattr(row, f, v)
            result.updated.append(rec.id)
        else:
            if row.catalog_version != rec.catalog_version:  # same content, new file version
                row.catalog_version = rec.catalog_version
            result.unchanged += 1


def sync_catalog(session: Session, data: CatalogData, *, force: bool = False) -> SyncResult:
    """Make the `repo` rows equal to the catalog file.

    Idempotent: a second run changes nothing. Refuses (unless `force`) to replace rows that
    come from a newer catalog version, e.g. an old release starting against a newer database.
    Rows imported from CSV with the same id are replaced by the curated file entry; rows
    from the file that were removed from it are deleted. The caller commits.
    """
    result = SyncResult()
    rows = {r.id: r for r in session.scalars(select(Procedure)).all()}
    repo_versions = {r.catalog_version for r in rows.values() if r.origin == "repo"}
    new_key = version_key(data.version)
    if not force and new_key is not None:
        newer = [v for v in repo_versions if (k := version_key(v)) is not None and k > new_key]
        if newer:
            result.skipped = f"データベースの版 {max(newer)} がファイルの版 {data.version} より新しいため、更新しませんでした。"
            return result
    _apply(session, data.procedures, "repo", rows, result)
    keep = {p.id for p in data.procedures}
    for pid, row in rows.items():
        if row.origin == "repo" and pid not in keep:
            session.delete(row)
            result.deleted.append(pid)
    session.flush()
    return result


def sync_import(session: Session, records: list[ProcedureRecord]) -> SyncResult:
    """Replace the `import` rows with `records` (the city's full list); curated rows are kept."""
    result = SyncResult()
    rows = {r.id: r for r in session.scalars(select(Procedure)).all()}
    curated_names = {r.name for r in rows.values() if r.origin == "repo"}
    fresh = [r for r in records if r.name not in curated_names and
             (r.id not in rows or rows[r.id].origin == "import")]
    _apply(session, fresh, "import", rows, result)
    keep = {r.id for r in fresh}
    for pid, row in rows.items():
        if row.origin == "import" and pid not in keep:
            session.delete(row)
            result.deleted.append(pid)
    session.flush()
    return result
