"""Login sessions (Flask-Login), role checks and CSRF for the console's routes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user

from bot.staff.accounts import can, get_user

login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "ログインしてください。"
login_manager.session_protection = "strong"


class ConsoleUser(UserMixin):
    def __init__(self, user_id: int, name: str, role: str, epoch: int) -> None:
        self.user_id = user_id
        self.name = name
        self.role = role
        self.epoch = epoch

    def get_id(self) -> str:
        # The epoch is bumped on a password or role change, which ends the account's other sessions.
        return f"{self.user_id}:{self.epoch}"

    def can(self, permission: str) -> bool:
        return can(self.role, permission)


def services():
    return current_app.extensions["kb.services"]


@login_manager.user_loader
def _load(raw: str) -> ConsoleUser | None:
    try:
        uid, epoch = (int(x) for x in raw.split(":", 1))
    except ValueError:
        return None
    user = get_user(services().db, uid)
    if user is None or not user.active or (user.session_epoch or 0) != epoch:
        return None
    return ConsoleUser(user.id, user.name, user.role, user.session_epoch or 0)


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith(("/admin/api/", "/simulator/api/")) or request.accept_mimetypes.best == "application/json":
        return jsonify({"message": "ログインしてください。"}), 401
    return redirect(url_for("admin.login", next=request.full_path if request.method == "GET" else None))


def requires(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view needs a logged-in user whose role has `permission` (403 otherwise)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(permission):
                abort(403)
            return fn(*args, **kwargs)

        return wrapper

    return deco


def actor() -> str:
    return current_user.name if current_user.is_authenticated else "anonymous"
