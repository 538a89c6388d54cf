"""The procedure record and the validation of catalog data (file or CSV), with messages for staff.

Errors are written in Japanese because the people who fix them are city staff editing
bot/catalog/procedures.yml or the CSV export.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

CHANNELS = ("chat", "ekawasaki", "pittari", "logoform", "external", "counter")
AUDIENCES = ("個人", "事業者")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
FEE_CONFIDENCES = ("high", "medium", "low", "unverified")
# Keys every procedure has in the SQL table; anything else (source, notes, ...) goes to `extra`.
KNOWN_KEYS = (
    "id", "name", "category", "audience", "channel", "online_now", "description", "requirements",
    "apply", "contact", "eta", "keywords", "variants", "sources", "unverified",
)


class CatalogError(ValueError):
    """Catalog data that cannot be loaded; `errors` lists every problem found (Japanese)."""

    def __init__(self, errors: list[str], source: str = "") -> None:
        self.errors = errors
        head = f"手続カタログ{f'（{source}）' if source else ''}に {len(errors)} 件の問題があります:"
        super().__init__("\n".join([head, *(f"- {e}" for e in errors)]))


@dataclass
class ProcedureRecord:
    id: str
    name: str
    category: str = ""
    audience: list[str] = field(default_factory=list)
    channel: str = "counter"
    online_now: bool = False
    description: str = ""
    requirements: dict[str, Any] = field(default_factory=dict)
    apply: dict[str, Any] = field(default_factory=dict)
    contact: Any = None  # str or {section, phone, phone_label, ward_based, note}
    eta: str | None = None
    keywords: list[str] = field(default_factory=list)
    variants: list[Any] = field(default_factory=list)
    sources: list[Any] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    catalog_version: str = ""
    origin: str = "repo"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    # ---- UNVERIFIED handling: never present such a value to residents as fact.
    def is_unverified(self, path: str) -> bool:
        """True when `path` (e.g. "requirements.fee") or a parent/child of it is marked unverified."""
        for mark in self.unverified:
            mark = str(mark).strip()
            if not mark:
                continue
            if mark == path or path.startswith(mark + ".") or mark.startswith(path + "."):
                return True
            if "." not in mark and path.rsplit(".", 1)[-1] == mark:
                return True
        return False

    def fee_is_fact(self) -> bool:
        fee = self.requirements.get("fee") if isinstance(self.requirements, dict) else None
        if not isinstance(fee, dict):
            return False
        conf = str(fee.get("confidence") or "").lower()
        note = str(fee.get("note") or "")
        return (
            conf not in ("unverified", "")
            and not self.is_unverified("requirements.fee")
            and "UNVERIFIED" not in note.upper()
        )


@dataclass
class CatalogData:
    version: str
    schema: int
    procedures: list[ProcedureRecord]
    source: str = ""


def _label(i: int, raw: dict) -> str:
    pid = raw.get("id") if isinstance(raw, dict) else None
    name = raw.get("name") if isinstance(raw, dict) else None
    who = f"id: {pid}" if pid else (f"名前: {name}" if name else "id なし")
    return f"{i + 1}件目の手続（{who}）"


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def validate_procedures(raw_list: Any, version: str, origin: str = "repo",
                        source: str = "") -> list[ProcedureRecord]:
    """Check raw dicts and build records; raises CatalogError listing every problem."""
    errors: list[str] = []
    if not isinstance(raw_list, list) or not raw_list:
        raise CatalogError(["procedures（手続のリスト）がないか、空です。"], source)
    records: list[ProcedureRecord] = []
    first_seen: dict[str, int] = {}
    names_seen: dict[str, int] = {}
    for i, raw in enumerate(raw_list):
        where = _label(i, raw)
        if not isinstance(raw, dict):
            errors.append(f"{where}: 「- id: ...」の形の項目にしてください。")
            continue
        pid = str(raw.get("id") or "").strip()
        name = str(raw.get("name") or "").strip()
        if not pid:
            errors.append(f"{where}: id がありません。")
        elif not ID_RE.match(pid):
            errors.append(f"{where}: id「{pid}」は使えません。半角の小文字英数字と _ だけにしてください。")
        elif pid in first_seen:
            errors.append(f"{where}: id「{pid}」が重複しています（{first_seen[pid] + 1}件目と同じ）。")
        else:
            first_seen[pid] = i
        if not name:
            errors.append(f"{where}: name（正式名称）がありません。")
        elif name in names_seen:
            errors.append(f"{where}: 名前「{name}」が重複しています（{names_seen[name] + 1}件目と同じ）。")
        else:
            names_seen[name] = i
        channel = str(raw.get("channel") or "").strip()
        if channel not in CHANNELS:
            shown = channel or "（空）"
            errors.append(f"{where}: channel「{shown}」は使えません。{' / '.join(CHANNELS)} のどれかにしてください。")
        audience = [str(a).strip() for a in _as_list(raw.get("audience"))]
        bad_aud = [a for a in audience if a not in AUDIENCES]
        if not audience or bad_aud:
            errors.append(f"{where}: audience（対象）は 個人 / 事業者 で書いてください"
                          f"{f'（「{bad_aud[0]}」は使えません）' if bad_aud else '（空です）'}。")
        for key in ("requirements", "apply"):
            if raw.get(key) is not None and not isinstance(raw.get(key), dict):
                errors.append(f"{where}: {key} は「項目: 値」の形で書いてください。")
        req = raw.get("requirements") or {}
        fee = req.get("fee") if isinstance(req, dict) else None
        if fee is not None:
            if not isinstance(fee, dict):
                errors.append(f"{where}: requirements.fee は {{amount_yen, unit, note, confidence}} か null にしてください。")
            else:
                amount = fee.get("amount_yen")
                if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool) or amount < 0):
                    errors.append(f"{where}: 手数料 amount_yen「{amount}」は0以上の整数（円）にしてください。")
                conf = str(fee.get("confidence") or "").lower()
                if conf and conf not in FEE_CONFIDENCES:
                    errors.append(f"{where}: 手数料の confidence「{fee.get('confidence')}」は "
                                  "high / medium / low / UNVERIFIED のどれかにしてください。")
        for key in ("keywords", "unverified"):
            if raw.get(key) is not None and not isinstance(raw.get(key), list):
                errors.append(f"{where}: {key} はリスト（[a, b]）で書いてください。")
        if errors:
            continue
        records.append(ProcedureRecord(
            id=pid,
            name=name,
            category=str(raw.get("category") or ""),
            audience=audience,
            channel=channel,
            online_now=bool(raw.get("online_now")),
            description=str(raw.get("description") or ""),
            requirements=dict(req),
            apply=dict(raw.get("apply") or {}),
            contact=raw.get("contact"),
            eta=None if raw.get("eta") is None else str(raw.get("eta")),
            keywords=[str(k) for k in _as_list(raw.get("keywords")) if str(k).strip()],
            variants=_as_list(raw.get("variants")),
            sources=_as_list(raw.get("sources")),
            unverified=[str(u) for u in _as_list(raw.get("unverified"))],
            extra={k: v for k, v in raw.items() if k not in KNOWN_KEYS},
            catalog_version=version,
            origin=origin,
        ))
    if errors:
        raise CatalogError(errors, source)
    return records
