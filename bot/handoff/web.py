"""`GET /go/<token>`: record the click, then 302 to the address the bot put in the signed token.

A forged, altered or expired token gets a friendly Japanese page (404 / 410) with the portal and
the call centre, never a redirect. A HEAD request (link previews) redirects without counting.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import suppress
from datetime import UTC, datetime
from html import escape

from flask import Blueprint, Response, current_app, redirect, request

from bot.handoff.links import LinkIssuer, LinkPayload
from bot.handoff.models import HandoffClick
from bot.routing.cards import CALL_CENTER_HOURS, CALL_CENTER_NAME, CALL_CENTER_PHONE, PORTAL_URL
from bot.storage.models import AnalyticsEvent

log = logging.getLogger(__name__)
bp = Blueprint("handoff", __name__)


def _services():
    return current_app.extensions["kb.services"]


def _issuer() -> LinkIssuer:
    issuer = current_app.extensions.get("kb.link_issuer")
    if issuer is None:
        s = _services().settings
        issuer = current_app.extensions["kb.link_issuer"] = LinkIssuer(s.channel_secret, s.public_base_url)
    return issuer


def record_click(db, payload: LinkPayload, now: datetime) -> None:
    """One row per click, and the analytics event, in one transaction."""
    props = {"channel": payload.channel, "token": payload.token_id, "source": payload.source,
             "facility": payload.facility}
    with db.session() as s:
        s.add(HandoffClick(token_id=payload.token_id, procedure_id=payload.procedure_id, channel=payload.channel,
                           user_hash=payload.user_hash, source=payload.source, facility_code=payload.facility,
                           clicked_at=now))
        s.add(AnalyticsEvent(name="handoff_clicked", user_hash=payload.user_hash, procedure_id=payload.procedure_id,
                             event_id=f"go:{uuid.uuid4().hex}", props=props, created_at=now))


@bp.get("/go/<path:token>")
def go(token: str) -> Response:
    now = datetime.now(UTC)
    verified = _issuer().verify(token, now)
    if verified.status != "ok" or verified.payload is None:
        log.info("hand-off link refused", extra={"reason": verified.status})
        return _page(verified.status, verified.payload)
    payload = verified.payload
    if request.method == "GET":
        try:
            record_click(_services().db, payload, now)
        except Exception as exc:  # the resident still gets to the application page; the click is lost
            log.warning("hand-off click not recorded", extra={"error": type(exc).__name__,
                                                              "procedure": payload.procedure_id})
    response = redirect(payload.target, code=302)
    response.headers["Cache-Control"] = "no-store"  # every tap reaches us and is counted
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of the target's logs
    return response


_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}｜川崎市 手続き案内</title>
<style>body{{font-family:sans-serif;max-width:34em;margin:2em auto;padding:0 1em;line-height:1.7;color:#222}}
h1{{font-size:1.3em}} a.button{{display:inline-block;background:#06C755;color:#fff;padding:.6em 1.2em;
border-radius:.4em;text-decoration:none;margin:.5em 0}} .small{{color:#666;font-size:.9em}}</style>
</head><body>
<h1>{title}</h1>
<p>{message}</p>
<p>LINEのトーク画面にもどって、もう一度{what}を送ってください。新しいリンクをお送りします。</p>
<p><a class="button" href="{portal}" rel="noopener">オンライン手続かわさき（e-KAWASAKI）で手続をさがす</a></p>
<p>お電話でのお問い合わせ：{call_name}<br><a href="tel:{tel}">{phone}</a>（{hours}）</p>
<p class="small">川崎市 手続き案内LINE</p>
</body></html>
"""


def _page(status: str, payload: LinkPayload | None) -> Response:
    if status == "expired":
        title = "リンクの有効期限が切れています"
        message = "このリンクは、安全のため一定の期間が過ぎると使えなくなります。"
        code = 410
    else:
        title = "このリンクは使えません"
        message = "リンクが正しくないか、途中で変わってしまったようです。"
        code = 404
    what = "手続の名前"
    if status == "expired" and payload is not None:
        # The signature was valid: the procedure id is ours, safe to name.
        what = f"「{escape(payload.procedure_id)}」の手続の名前"
        with suppress(Exception):
            proc = _services().catalog().get(payload.procedure_id)
            if proc is not None:
                what = f"「{escape(proc.name)}」"
    html = _PAGE.format(title=title, message=message, what=what, portal=escape(PORTAL_URL),
                        call_name=CALL_CENTER_NAME, tel=CALL_CENTER_PHONE.replace("-", ""),
                        phone=CALL_CENTER_PHONE, hours=CALL_CENTER_HOURS)
    response = Response(html, status=code, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
