"""Posters: pick a procedure and a facility, preview and download (bot.qr.service.make_poster)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Response, abort, render_template, request

from bot.admin.security import actor, requires, services
from bot.admin.views import bp
from bot.staff.audit import record

FORMATS = {"pdf": "application/pdf", "svg": "image/svg+xml", "png": "image/png"}


def _poster_api():
    try:
        from bot.qr import facilities
        from bot.qr.service import PosterError, make_poster
    except ImportError:
        return None
    return facilities, PosterError, make_poster


@bp.get("/posters")
@requires("posters")
def posters():
    api = _poster_api()
    if api is None:
        return render_template("admin/posters.html", available=False, procedures=[], facilities=[])
    facilities = api[0]
    catalog = services().catalog()
    procedure = request.args.get("procedure", "")
    facility = request.args.get("facility", "")
    return render_template("admin/posters.html", available=True, procedures=catalog.procedures,
                           facilities=facilities.list_all(services().db), procedure=procedure, facility=facility,
                           chosen=bool(catalog.get(procedure) and facilities.get(services().db, facility)))


@bp.get("/posters/poster.<fmt>")
@requires("posters")
def poster_file(fmt: str):
    if fmt not in FORMATS:
        abort(404)
    api = _poster_api()
    if api is None:
        abort(404)
    _, poster_error, make_poster = api
    svc = services()
    procedure, facility = request.args.get("procedure", ""), request.args.get("facility", "")
    with tempfile.TemporaryDirectory(prefix="kb-poster-") as tmp:
        try:
            files = make_poster(svc.db, svc.catalog(), procedure=procedure, facility=facility,
                                basic_id=svc.settings.bot_basic_id, out_dir=Path(tmp))
        except poster_error as exc:
            return render_template("admin/error.html", code=400, message=str(exc)), 400
        data = {"pdf": files.pdf, "svg": files.svg, "png": files.png}[fmt].read_bytes()
        name = {"pdf": files.pdf, "svg": files.svg, "png": files.png}[fmt].name
    download = request.args.get("download") == "1"
    if download:
        with svc.db.session() as s:
            record(s, actor(), "poster.download", f"poster:{procedure}@{facility}", "", f"{fmt} code={files.code}")
    headers = {"Content-Disposition": f'{"attachment" if download else "inline"}; filename="{name}"'}
    if fmt == "svg":  # shown in an <img>; its own scripts (there are none) must never run
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return Response(data, mimetype=FORMATS[fmt], headers=headers)
