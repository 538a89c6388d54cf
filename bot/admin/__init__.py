"""The staff console (/admin) and the LINE-like simulator (/simulator).

`init_console(app, services)` sets the session secret and cookie flags, Flask-Login, CSRF
protection (checked only on the console's and simulator's own routes, never on /callback) and
registers both blueprints.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import timedelta

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from bot.admin.security import login_manager

csrf = CSRFProtect()


def secret_key(channel_secret: str) -> str:
    """KB_SECRET_KEY; otherwise derived from the channel secret, which every process shares (on
    embedded defaults that is the dev secret, so the dev key is stable too)."""
    explicit = os.environ.get("KB_SECRET_KEY", "").strip()
    if explicit:
        return explicit
    return hmac.new(channel_secret.encode(), b"kawasaki-console-session-v1", hashlib.sha256).hexdigest()


def init_console(app: Flask, services) -> None:
    settings = services.settings
    app.config["SECRET_KEY"] = secret_key(settings.channel_secret)
    app.config.update(
        SESSION_COOKIE_NAME="kb_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        REMEMBER_COOKIE_DURATION=timedelta(hours=8),
        WTF_CSRF_CHECK_DEFAULT=False,  # protect() is called by the console blueprints only
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        MAX_FORM_MEMORY_SIZE=2 * 1024 * 1024,
    )
    csrf.init_app(app)
    login_manager.init_app(app)

    from bot.admin.views import bp as admin_bp
    from bot.simulator.views import bp as simulator_bp

    app.register_blueprint(admin_bp)
    app.register_blueprint(simulator_bp)
