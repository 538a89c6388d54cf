"""Flask application factory: the webhook, health, and (later) console and links."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from bot.config import Settings, load_settings
from bot.logging_setup import setup_logging
from bot.services import Services

log = logging.getLogger(__name__)


def nlu_health(settings: Settings) -> dict:
    """Rasa when configured (degraded: the workers fall back to the embedded NLU), else embedded."""
    if not settings.rasa_url:
        return {"backend": "embedded"}
    from integrations.rasa.client import RasaNlu

    health = RasaNlu(settings.rasa_url, timeout=1.0).health()
    if health.get("ok"):
        return {"backend": "rasa", "model": health.get("model_file")}
    return {"status": "degraded", "backend": "rasa", "fallback": "embedded"}


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or load_settings()
    setup_logging(keep_existing=True)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["JSON_AS_ASCII"] = False
    services = services or Services(settings)
    app.extensions["kb.services"] = services
    app.extensions["kb.health_probes"] = {"nlu": lambda: nlu_health(settings)}

    from bot import health, webhook
    from bot.handoff import web as handoff_web

    app.wsgi_app = webhook.PathDispatch(  # type: ignore[method-assign]
        app.wsgi_app, {"/callback": webhook.WebhookEndpoint(services, settings.channel_secret, settings.max_body_bytes)})
    app.register_blueprint(health.bp)
    app.register_blueprint(handoff_web.bp)  # GET /go/<token>

    from bot.admin import init_console

    init_console(app, services)  # /admin (staff console) and /simulator

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return jsonify({"message": exc.description or exc.name}), exc.code

    try:
        services.queue.ensure_groups()
    except Exception as exc:  # Redis may come up after the web process; enqueue retries later
        log.warning("queue not ready at start", extra={"error": type(exc).__name__})
    return app
