"""Small server-side SVG charts (no JavaScript, no CDN): daily columns and ranked bars."""

from __future__ import annotations

from html import escape

from markupsafe import Markup


def columns(points: list[tuple[str, int]], *, title: str, color: str = "#06c755", height: int = 180) -> Markup:
    """Vertical bars, one per day; labels are shown for every few days so a phone stays readable."""
    n = max(len(points), 1)
    width = 480
    top = max((v for _, v in points), default=0)
    scale = (height - 40) / top if top else 0
    bar_w = width / n
    step = max(1, n // 7)
    parts = [f'<svg class="chart columns" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'data-total="{sum(v for _, v in points)}" preserveAspectRatio="xMinYMin meet">',
             f'<title>{escape(title)}</title>']
    for i, (label, value) in enumerate(points):
        h = value * scale
        x = i * bar_w + 2
        y = height - 22 - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" fill="{color}">'
                     f'<title>{escape(label)}: {value}</title></rect>')
        if value:
            parts.append(f'<text x="{x + (bar_w - 4) / 2:.1f}" y="{y - 3:.1f}" class="v">{value}</text>')
        if i % step == 0:
            parts.append(f'<text x="{x + (bar_w - 4) / 2:.1f}" y="{height - 6}" class="l">{escape(label[5:])}</text>')
    parts.append(f'<line x1="0" y1="{height - 22}" x2="{width}" y2="{height - 22}" class="axis"/></svg>')
    return Markup("".join(parts))


def bars(rows: list[tuple[str, int]], *, title: str, color: str = "#2b7de9") -> Markup:
    """Horizontal bars with the label above each bar (long Japanese names wrap nothing)."""
    if not rows:
        return Markup('<p class="empty">まだデータがありません。</p>')
    top = max(v for _, v in rows) or 1
    row_h = 34
    height = row_h * len(rows) + 4
    parts = [f'<svg class="chart bars" viewBox="0 0 400 {height}" role="img" aria-label="{escape(title)}" '
             f'data-total="{sum(v for _, v in rows)}" preserveAspectRatio="xMinYMin meet">',
             f'<title>{escape(title)}</title>']
    for i, (label, value) in enumerate(rows):
        y = i * row_h
        w = 330 * value / top
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(f'<text x="0" y="{y + 12}" class="l">{escape(short)}</text>')
        parts.append(f'<rect x="0" y="{y + 16}" width="{max(w, 1):.1f}" height="12" fill="{color}">'
                     f'<title>{escape(label)}: {value}</title></rect>')
        parts.append(f'<text x="{w + 6:.1f}" y="{y + 27}" class="v">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
