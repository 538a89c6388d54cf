"""Import the city's full procedure list (~2,650 rows) from CSV. Columns: docs/catalog-import.md."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from pathlib import Path

from sqlalchemy.orm import Session

from bot.catalog.schema import CHANNELS, CatalogError, ProcedureRecord
from bot.catalog.sync import SyncResult, sync_import

REQUIRED = ("手続名", "カテゴリ", "対象", "申請方法", "URL", "キーワード")
# Accepted spellings of column headers (NFKC, spaces removed) -> canonical header.
HEADER_ALIASES = {
    "手続名": "手続名", "手続き名": "手続名", "名称": "手続名",
    "カテゴリ": "カテゴリ", "カテゴリー": "カテゴリ", "分類": "カテゴリ",
    "対象": "対象", "対象者": "対象",
    "申請方法": "申請方法", "チャネル": "申請方法", "申請方法/チャネル": "申請方法",
    "url": "URL", "申請url": "URL", "リンク": "URL",
    "キーワード": "キーワード", "検索キーワード": "キーワード",
    "id": "ID", "説明": "説明", "概要": "説明", "窓口": "窓口", "受付時間": "受付時間",
    "手数料(円)": "手数料", "手数料": "手数料", "マイナンバーカード": "マイナンバーカード",
    "持ち物": "持ち物", "必要書類": "持ち物", "問い合わせ": "問い合わせ", "問合せ先": "問い合わせ",
    "オンライン": "オンライン", "オンライン申請": "オンライン", "申請システム": "申請システム",
}
# Words staff write in the 申請方法 column -> channel code.
CHANNEL_WORDS = {
    "chat": "chat", "line": "chat", "チャット": "chat", "lineチャット": "chat",
    "ekawasaki": "ekawasaki", "e-kawasaki": "ekawasaki", "オンライン手続かわさき": "ekawasaki",
    "電子申請": "ekawasaki",
    "pittari": "pittari", "ぴったりサービス": "pittari", "マイナポータル": "pittari", "ぴったり": "pittari",
    "logoform": "logoform", "logoフォーム": "logoform", "ロゴフォーム": "logoform",
    "external": "external", "外部": "external", "その他": "external", "外部システム": "external",
    "counter": "counter", "窓口": "counter", "郵送": "counter", "窓口・郵送": "counter",
}
CHANNEL_SYSTEMS = {"ekawasaki": "オンライン手続かわさき (e-KAWASAKI)", "pittari": "マイナポータル ぴったりサービス",
                   "logoform": "LoGoフォーム"}
_SPLIT_RE = re.compile(r"[、,，;；|｜/／\n]+")
_DOC_SPLIT_RE = re.compile(r"[;；|｜\n]+")  # documents may contain 、 inside parentheses
_TRUE = {"○", "◯", "〇", "はい", "要", "必要", "あり", "true", "yes", "1", "可"}


def _key(header: str) -> str:
    return unicodedata.normalize("NFKC", header or "").strip().lower().replace(" ", "").replace("　", "")


def stable_id(name: str, salt: str = "") -> str:
    """Same name -> same id on every import, so links and statistics survive re-imports."""
    norm = unicodedata.normalize("NFKC", name).strip() + ("|" + salt if salt else "")
    return "imp_" + hashlib.sha1(norm.encode("utf-8")).hexdigest()[:10]


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp932"):  # Excel in Japan saves Shift_JIS (cp932) by default
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise CatalogError(["文字コードが読めません。UTF-8 か Shift_JIS で保存してください。"], path.name)


def _channel(value: str) -> str | None:
    v = _key(value)
    if v in CHANNEL_WORDS:
        return CHANNEL_WORDS[v]
    for word, code in CHANNEL_WORDS.items():
        if len(word) > 2 and word in v:
            return code
    return None


def _audience(value: str) -> list[str]:
    v = unicodedata.normalize("NFKC", value or "")
    if "両方" in v or "どちらも" in v:
        return ["個人", "事業者"]
    out = [a for a in ("個人", "事業者") if a in v]
    if "法人" in v and "事業者" not in out:
        out.append("事業者")
    return out


def read_catalog_csv(path: Path | str, version: str | None = None) -> list[ProcedureRecord]:
    """Parse and validate the CSV; raises CatalogError with row numbers (Japanese)."""
    path = Path(path)
    text = _read_text(path)
    version = version or "import-" + hashlib.sha1(text.encode()).hexdigest()[:8]
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise CatalogError(["CSV が空です。"], path.name) from None
    cols = {HEADER_ALIASES.get(_key(h)): i for i, h in enumerate(header) if HEADER_ALIASES.get(_key(h))}
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise CatalogError([f"列「{c}」がありません（1行目の見出しを確認してください）。" for c in missing],
                           path.name)
    errors: list[str] = []
    rows: list[tuple[int, dict[str, str]]] = []
    for line_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        rows.append((line_no, {c: (row[i].strip() if i < len(row) else "") for c, i in cols.items()}))
    name_count: dict[str, int] = {}
    for _, r in rows:
        name_count[r["手続名"]] = name_count.get(r["手続名"], 0) + 1
    records: list[ProcedureRecord] = []
    seen_ids: dict[str, int] = {}
    for line_no, r in rows:
        where = f"{line_no}行目"
        name = r["手続名"].rstrip("※").strip()
        if not name:
            errors.append(f"{where}: 手続名が空です。")
            continue
        channel = _channel(r["申請方法"])
        if channel is None:
            errors.append(f"{where}（{name}）: 申請方法「{r['申請方法'] or '（空）'}」が分かりません。"
                          f"{' / '.join(CHANNELS)} か、窓口・e-KAWASAKI・ぴったりサービス・LoGoフォーム・外部 と書いてください。")
            continue
        audience = _audience(r["対象"])
        if not audience:
            errors.append(f"{where}（{name}）: 対象「{r['対象'] or '（空）'}」は 個人 / 事業者 / 個人・事業者 で書いてください。")
            continue
        pid = (r.get("ID") or "").strip()
        if not pid:
            pid = stable_id(name, r["カテゴリ"] if name_count[r["手続名"]] > 1 else "")
        if pid in seen_ids:
            errors.append(f"{where}（{name}）: 同じ手続名・カテゴリの行が {seen_ids[pid]}行目にもあります。")
            continue
        seen_ids[pid] = line_no
        fee_text = unicodedata.normalize("NFKC", r.get("手数料", "")).replace(",", "").replace("円", "")
        fee = ({"amount_yen": int(fee_text), "unit": None, "note": None, "confidence": "medium"}
               if fee_text.isdigit() else None)
        url = r["URL"] or None
        records.append(ProcedureRecord(
            id=pid,
            name=name,
            category=r["カテゴリ"],
            audience=audience,
            channel=channel,
            online_now=_key(r.get("オンライン", "")) in _TRUE or r["手続名"].endswith("※"),
            description=r.get("説明", ""),
            requirements={
                "mynumber_card": _key(r.get("マイナンバーカード", "")) in _TRUE,
                "pin_needed": None,
                "payment": bool(fee and fee["amount_yen"]),
                "fee": fee,
                "documents": [d for d in _DOC_SPLIT_RE.split(r.get("持ち物", "")) if d.strip()],
            },
            apply={
                "system": r.get("申請システム") or CHANNEL_SYSTEMS.get(channel),
                "url": url,
                # An imported address has not been checked by the bot team.
                "url_verified": False,
                "counter": r.get("窓口") or None,
                "hours": r.get("受付時間") or None,
            },
            contact=r.get("問い合わせ") or None,
            eta=None,
            keywords=[k.strip() for k in _SPLIT_RE.split(r["キーワード"]) if k.strip()],
            variants=[],
            sources=[f"csv:{path.name}"],
            unverified=["apply.url"] if url else [],
            catalog_version=version,
            origin="import",
        ))
    if errors:
        raise CatalogError(errors, path.name)
    return records


def import_csv(session: Session, path: Path | str) -> SyncResult:
    """Validate the CSV and replace previously imported rows with it (curated rows stay). Caller commits."""
    return sync_import(session, read_catalog_csv(path))
