"""/simulator: a LINE-like chat page. The browser posts what the resident does; this server signs
it as a LINE webhook (WebhookSender) and sends it to the app's own /callback, then reads the bot's
answers by long-polling the LINE emulator (settings.line_api_base_url when that is the emulator).

Open on embedded defaults (dev LINE credentials), staff-only otherwise.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from bot.admin import csrf
from bot.admin.security import login_manager, services

if TYPE_CHECKING:
    from integrations.line.webhook_sender import WebhookSender

# requests and the emulator's client are imported when a simulator page is used (~9 MB that a
# production web or `serve` process, where nobody opens the simulator, does not need to hold).

bp = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates",
               static_folder="static")
MAX_IMAGE_BYTES = 1024 * 1024
LONG_POLL_S = 20.0
_DETECT_TTL_S = 30.0


def _open_to_everyone() -> bool:
    return bool(services().settings.dev_line)


@bp.before_request
def _guard():
    if not _open_to_everyone() and not current_user.is_authenticated:
        return login_manager.unauthorized()
    csrf.protect()
    return None


@bp.after_request
def _headers(response):
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'")
    return response


def emulator_url() -> str | None:
    """The emulator's URL when the bot talks to the local LINE emulator; None for the real LINE."""
    base = services().settings.line_api_base_url
    cache = current_app.extensions.setdefault("kb.simulator", {})
    hit = cache.get(base)
    if hit and time.monotonic() - hit[1] < _DETECT_TTL_S:
        return hit[0]
    found = None
    if not base.startswith("https://api.line.me"):
        import requests

        try:
            if requests.get(f"{base}/_emulator/info", timeout=2).status_code == 200:
                found = base
        except requests.RequestException:
            found = None
    cache[base] = (found, time.monotonic())
    return found


def _user_id() -> str:
    uid = session.get("sim_user")
    if not uid:
        uid = "U" + secrets.token_hex(16)
        session["sim_user"] = uid
    return uid


def _sender(emulator: str) -> WebhookSender:
    from integrations.line.emulator import EmulatorClient
    from integrations.line.webhook_sender import WebhookSender

    cache = current_app.extensions.setdefault("kb.simulator.senders", {})
    sender = cache.get(emulator)
    if sender is None:
        callback = request.url_root.rstrip("/") + "/callback"
        sender = WebhookSender(callback, services().settings.channel_secret, EmulatorClient(emulator))
        cache[emulator] = sender
    return sender


@bp.get("/")
def page():
    emulator = emulator_url()
    draft = request.args.get("draft", "")
    if draft and not (len(draft) == 64 and all(c in "0123456789abcdef" for c in draft)):
        draft = ""
    return render_template("simulator/chat.html", emulator=emulator, user_id=_user_id(), draft=draft,
                           staff=current_user.is_authenticated)


@bp.post("/reset")
def reset():
    session.pop("sim_user", None)
    return redirect(url_for("simulator.page"))


def _need_emulator():
    emulator = emulator_url()
    if emulator is None:
        return None, ({"message": "シミュレーターは、LINEエミュレーターを使っているときだけ使えます。"}, 409)
    return emulator, None


@bp.post("/api/send")
def send():
    emulator, error = _need_emulator()
    if error:
        return error
    body = request.get_json(silent=True) or {}
    kind = body.get("type")
    uid = _user_id()
    sender = _sender(emulator)
    events = sender.events
    if kind == "text" and isinstance(body.get("text"), str) and body["text"].strip():
        event = events.text(uid, body["text"][:5000])
    elif kind == "postback" and isinstance(body.get("data"), str):
        params = body.get("params") if isinstance(body.get("params"), dict) else None
        params = {k: str(v) for k, v in (params or {}).items() if k in ("date", "time", "datetime")} or None
        event = events.postback(uid, body["data"][:300], params)
    elif kind == "location":
        try:
            lat, lng = float(body["latitude"]), float(body["longitude"])
        except (KeyError, TypeError, ValueError):
            return {"message": "緯度と経度を数字で入れてください。"}, 400
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            return {"message": "緯度・経度の範囲が正しくありません。"}, 400
        event = events.location(uid, lat, lng, title=str(body.get("title") or "")[:100] or None,
                                address=str(body.get("address") or "")[:100] or None)
    elif kind == "follow":
        event = events.follow(uid)
    else:
        return {"message": "送る内容が正しくありません。"}, 400
    return _post(sender, event)


@bp.post("/api/image")
def image():
    emulator, error = _need_emulator()
    if error:
        return error
    upload = request.files.get("image")
    if upload is None:
        return {"message": "画像を選んでください。"}, 400
    data = upload.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        return {"message": "画像が大きすぎます（1MBまで）。"}, 413
    content_type = upload.mimetype if upload.mimetype in ("image/jpeg", "image/png") else "image/jpeg"
    sender = _sender(emulator)
    message_id = str(secrets.randbelow(9 * 10**17) + 10**17)
    sender.token_source.add_content(message_id, data, content_type)
    return _post(sender, sender.events.image(_user_id(), message_id=message_id))


def _post(sender: WebhookSender, event: dict):
    import requests

    try:
        response = sender.send(event)
    except requests.RequestException as exc:
        return {"message": f"ボットに届きませんでした（{type(exc).__name__}）。"}, 502
    return {"status": response.status_code, "eventId": event["webhookEventId"]}, (200 if response.ok else 502)


@bp.get("/api/messages")
def messages():
    emulator, error = _need_emulator()
    if error:
        return error
    after = request.args.get("after", 0, type=int) or 0
    wait = min(max(request.args.get("wait", LONG_POLL_S, type=float) or 0.0, 0.0), LONG_POLL_S)
    import requests

    from integrations.line.emulator import EmulatorClient

    try:
        found = EmulatorClient(emulator, timeout=5).messages(_user_id(), after=after, wait=wait)
    except requests.RequestException:
        return {"message": "LINEエミュレーターに接続できません。"}, 502
    out = [{"seq": m["seq"], "message": m["message"], "api": m.get("api")} for m in found["messages"]]
    last = max([after, *[m["seq"] for m in out]])
    return {"messages": out, "after": last}
