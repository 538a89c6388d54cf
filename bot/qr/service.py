"""Making a poster: resolve the procedure and facility, allocate the start code, write the files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.catalog.index import Catalog
from bot.catalog.schema import ProcedureRecord
from bot.qr import facilities
from bot.qr.codes import StartCodes, friend_add_url, oa_message_url, start_text
from bot.qr.poster import PosterSpec, layout, render_pdf, render_qr_png, render_svg
from bot.storage.db import Database


class PosterError(ValueError):
    """A problem the staff member can fix (Japanese message)."""


@dataclass(frozen=True)
class PosterFiles:
    code: str
    start_url: str
    friend_url: str
    pdf: Path
    svg: Path
    png: Path


def resolve_procedure(catalog: Catalog, name_or_id: str) -> ProcedureRecord:
    proc = catalog.get(name_or_id.strip()) or catalog.by_name(name_or_id)
    if proc is not None:
        return proc
    hits = catalog.search(name_or_id, k=3)
    hint = "、".join(f"{h.procedure.name}（{h.procedure.id}）" for h in hits)
    raise PosterError(f"手続「{name_or_id}」が見つかりません。正式名称か id を指定してください。"
                      + (f" 候補：{hint}" if hint else ""))


def headline_for(proc: ProcedureRecord) -> tuple[str, str]:
    if proc.channel == "counter":
        return ("LINEで窓口の案内が見られます",
                "読み取って送信すると、窓口の場所・受付時間・持ち物をLINEでご案内します。")
    if proc.channel == "chat":
        return "LINEで申請できます", "読み取って送信すると、このLINEのチャットでそのまま申し込めます。"
    return "LINEで申請できます", "読み取って送信すると、申請に必要なものと申請ページをLINEでご案内します。"


def make_poster(db: Database, catalog: Catalog, *, procedure: str, facility: str, basic_id: str,
                out_dir: Path) -> PosterFiles:
    proc = resolve_procedure(catalog, procedure)
    place = facilities.get(db, facility.strip().lower())
    if place is None:
        known = "、".join(f.code for f in facilities.list_all(db)[:10])
        raise PosterError(f"施設コード「{facility}」は登録されていません。`kawasaki-bot facilities list` で確認するか、"
                          f"`kawasaki-bot facilities add` で登録してください。登録済みの例：{known}")
    code = StartCodes(db).ensure(proc.id, place.code)
    message = start_text(code, proc.name if len(proc.name) <= 30 else "")
    start_url = oa_message_url(basic_id, message)
    friend_url = friend_add_url(basic_id)
    headline, subline = headline_for(proc)
    spec = PosterSpec(procedure_name=proc.name, headline=headline, subline=subline, facility_name=place.name,
                      start_url=start_url, start_text=f"#{code}", friend_url=friend_url, basic_id=basic_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"poster-{proc.id}-{place.code}"
    lay = layout(spec)
    title = f"{proc.name}（{place.name}）"
    files = PosterFiles(code, start_url, friend_url, out_dir / f"{stem}.pdf", out_dir / f"{stem}.svg",
                        out_dir / f"{stem}-qr.png")
    render_pdf(lay, files.pdf, title)
    render_svg(lay, files.svg, title)
    render_qr_png(start_url, files.png)
    return files
