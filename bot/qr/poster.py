"""A4 posters with a QR that starts a procedure in LINE, as PDF and SVG (plus the QR alone as PNG).

The layout is computed once as simple shapes (text, boxes, QR matrices, top-left origin in points)
and drawn by two renderers. The PDF uses reportlab's built-in Japanese CID font HeiseiKakuGo-W5,
so no font files are needed; the SVG names common Japanese fonts and lets the viewer pick one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from bot.routing.cards import CALL_CENTER_HOURS, CALL_CENTER_NAME, CALL_CENTER_PHONE

FONT = "HeiseiKakuGo-W5"
SVG_FONTS = "'Hiragino Kaku Gothic ProN','Hiragino Sans','Noto Sans JP','Noto Sans CJK JP','Yu Gothic','Meiryo',sans-serif"
GREEN = "#06C755"
DARK = "#222222"
GREY = "#555555"
PAGE_W, PAGE_H = A4  # points
MARGIN = 42.0

_font_ready = False


def _font() -> str:
    global _font_ready
    if not _font_ready:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _font_ready = True
    return FONT


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline, from the top
    text: str
    size: float
    color: str = DARK
    anchor: str = "start"  # start | middle


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    fill: str
    radius: float = 0.0


@dataclass(frozen=True)
class Qr:
    x: float
    y: float
    size: float
    matrix: tuple[tuple[bool, ...], ...]  # with its quiet zone


@dataclass
class Layout:
    shapes: list[Text | Box | Qr] = field(default_factory=list)


@dataclass(frozen=True)
class PosterSpec:
    procedure_name: str
    headline: str  # 「LINEで申請できます」
    subline: str
    facility_name: str
    start_url: str  # the oaMessage link in the big QR
    start_text: str  # "#QR-7K2M …" (shown so it can also be typed)
    friend_url: str
    basic_id: str


def qr_matrix(data: str, border: int = 4) -> tuple[tuple[bool, ...], ...]:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    qr.add_data(data)
    qr.make(fit=True)
    return tuple(tuple(bool(c) for c in row) for row in qr.get_matrix())


def text_width(s: str, size: float) -> float:
    return pdfmetrics.stringWidth(s, _font(), size)


def wrap(s: str, size: float, width: float, max_lines: int = 3) -> list[str]:
    """Break Japanese text by characters (there are no spaces to break at)."""
    lines: list[str] = []
    current = ""
    for ch in s:
        if text_width(current + ch, size) > width and current:
            lines.append(current)
            current = ch.lstrip()
        else:
            current += ch
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def layout(spec: PosterSpec) -> Layout:
    out = Layout()
    add = out.shapes.append
    cx = PAGE_W / 2
    inner = PAGE_W - 2 * MARGIN
    # Header band.
    add(Box(0, 0, PAGE_W, 70, GREEN))
    add(Text(cx, 44, "川崎市　LINEで手続き案内", 22, "#FFFFFF", "middle"))
    y = 120.0
    # Procedure name, as large as fits in two lines.
    size = 30.0
    while size > 16 and len(wrap(spec.procedure_name, size, inner, 99)) > 2:
        size -= 2
    for line in wrap(spec.procedure_name, size, inner, 2):
        add(Text(cx, y, line, size, DARK, "middle"))
        y += size * 1.3
    y += 6
    add(Box(MARGIN + 40, y - 4, inner - 80, 46, "#E8F9EE", 10))
    add(Text(cx, y + 30, spec.headline, 26, GREEN, "middle"))
    y += 70
    for line in wrap(spec.subline, 13, inner, 2):
        add(Text(cx, y, line, 13, GREY, "middle"))
        y += 19
    # The big QR (procedure start).
    y += 6
    qr_size = 230.0
    add(Qr(cx - qr_size / 2, y, qr_size, qr_matrix(spec.start_url)))
    y += qr_size + 24
    add(Text(cx, y, "スマートフォンのカメラで読み取ってください", 15, DARK, "middle"))
    y += 22
    add(Text(cx, y, f"読み取れないときは、LINEで「{spec.start_text}」と送ってください", 11, GREY, "middle"))
    y += 30
    # Steps.
    steps = ["① QRコードを読み取る", "② LINEが開いたら、入力ずみの文字をそのまま送信", "③ LINEの案内にしたがって申請"]
    for step in steps:
        add(Text(MARGIN + 20, y, step, 13, DARK))
        y += 21
    # Friend-add QR, small, bottom right; notes bottom left.
    small = 96.0
    fy = PAGE_H - 150 - small + 40
    add(Qr(PAGE_W - MARGIN - small, fy, small, qr_matrix(spec.friend_url, border=2)))
    add(Text(PAGE_W - MARGIN - small / 2, fy + small + 13, "友だち追加はこちら", 10, DARK, "middle"))
    add(Text(PAGE_W - MARGIN - small / 2, fy + small + 26, f"LINE ID {spec.basic_id}", 9, GREY, "middle"))
    notes_y = fy + 18
    notes = [
        f"設置場所：{spec.facility_name}",
        "マイナンバーやカードの番号は、LINEに送らないでください。",
        f"お問い合わせ：{CALL_CENTER_NAME} {CALL_CENTER_PHONE}",
        f"（{CALL_CENTER_HOURS}）",
    ]
    for note in notes:
        for line in wrap(note, 11, inner - small - 20, 2):
            add(Text(MARGIN, notes_y, line, 11, DARK if note.startswith("設置場所") else GREY))
            notes_y += 17
    add(Box(0, PAGE_H - 24, PAGE_W, 24, GREEN))
    return out


# ---------------------------------------------------------------------------------- renderers
def render_pdf(lay: Layout, path: Path, title: str) -> None:
    font = _font()
    c = Canvas(str(path), pagesize=A4)
    c.setTitle(title)
    c.setAuthor("川崎市")
    for s in lay.shapes:
        if isinstance(s, Box):
            c.setFillColor(s.fill)
            if s.radius:
                c.roundRect(s.x, PAGE_H - s.y - s.h, s.w, s.h, s.radius, stroke=0, fill=1)
            else:
                c.rect(s.x, PAGE_H - s.y - s.h, s.w, s.h, stroke=0, fill=1)
        elif isinstance(s, Text):
            c.setFillColor(s.color)
            c.setFont(font, s.size)
            if s.anchor == "middle":
                c.drawCentredString(s.x, PAGE_H - s.y, s.text)
            else:
                c.drawString(s.x, PAGE_H - s.y, s.text)
        elif isinstance(s, Qr):
            n = len(s.matrix)
            m = s.size / n
            c.setFillColor("#FFFFFF")
            c.rect(s.x, PAGE_H - s.y - s.size, s.size, s.size, stroke=0, fill=1)
            c.setFillColor("#000000")
            for r, row in enumerate(s.matrix):
                for col, dark in enumerate(row):
                    if dark:
                        # A hair of overlap so renderers leave no seams between modules.
                        c.rect(s.x + col * m, PAGE_H - s.y - (r + 1) * m, m + 0.05, m + 0.05, stroke=0, fill=1)
    c.showPage()
    c.save()


def render_svg(lay: Layout, path: Path, title: str) -> None:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 {PAGE_W:.2f} {PAGE_H:.2f}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{PAGE_W:.2f}" height="{PAGE_H:.2f}" fill="#FFFFFF"/>',
    ]
    for s in lay.shapes:
        if isinstance(s, Box):
            parts.append(f'<rect x="{s.x:.2f}" y="{s.y:.2f}" width="{s.w:.2f}" height="{s.h:.2f}" '
                         f'rx="{s.radius:.2f}" fill="{s.fill}"/>')
        elif isinstance(s, Text):
            parts.append(f'<text x="{s.x:.2f}" y="{s.y:.2f}" font-family="{SVG_FONTS}" font-size="{s.size:.1f}" '
                         f'fill="{s.color}" text-anchor="{s.anchor}">{escape(s.text)}</text>')
        elif isinstance(s, Qr):
            n = len(s.matrix)
            # One path in module units, scaled: crisp edges and a small file.
            d = "".join(f"M{c},{r}h1v1h-1z" for r, row in enumerate(s.matrix) for c, dark in enumerate(row) if dark)
            parts.append(f'<g transform="translate({s.x:.2f},{s.y:.2f}) scale({s.size / n:.4f})">'
                         f'<rect width="{n}" height="{n}" fill="#FFFFFF"/>'
                         f'<path d="{d}" fill="#000000" shape-rendering="crispEdges"/></g>')
    parts.append("</svg>")
    path.write_text("\n".join(parts), encoding="utf-8")


def render_qr_png(data: str, path: Path, box_size: int = 12) -> None:
    """The QR alone (no text, so no fonts needed), for the city's own flyer designs."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=box_size)
    qr.add_data(data)
    qr.make(fit=True)
    qr.make_image(fill_color="black", back_color="white").save(str(path))
