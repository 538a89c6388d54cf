"""The /admin blueprint: login, logout, the shared layout; the pages live in the *_views modules."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException

from bot.admin import csrf
from bot.admin.security import ConsoleUser, actor, services
from bot.staff.accounts import authenticate
from bot.staff.audit import record

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")
ERROR_TEXT = {
    400: "リクエストが正しくありません（画面を読み込み直してから、もう一度お試しください）。",
    403: "この操作をする権限がありません。",
    404: "ページが見つかりません。",
    405: "この操作はできません。",
    413: "ファイルが大きすぎます。",
}


@bp.before_request
def _protect() -> None:
    csrf.protect()  # every POST of the console carries the token (form field or X-CSRFToken header)


@bp.after_request
def _headers(response):
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
    return response


@bp.app_template_global()
def has_perm(permission: str) -> bool:
    return bool(current_user.is_authenticated and current_user.can(permission))


@bp.errorhandler(HTTPException)
def _error(exc: HTTPException):
    if request.path.startswith("/admin/api/"):
        return {"message": ERROR_TEXT.get(exc.code or 500, exc.description)}, exc.code
    return render_template("admin/error.html", code=exc.code,
                           message=ERROR_TEXT.get(exc.code or 500, "エラーが起きました。")), exc.code


ROLE_NAMES = {"admin": "管理者", "editor": "編集者", "viewer": "閲覧者"}


@bp.app_template_filter("role_name")
def _role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role)


@bp.app_template_filter("jst")
def _jst(value) -> str:
    from zoneinfo import ZoneInfo

    if value is None:
        return ""
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("admin.login"))
    return redirect(url_for("admin.dashboard"))


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("admin.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(("/admin", "/simulator")) or "\\" in target or target.startswith("//"):
        return url_for("admin.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = ""
    name = ""
    if request.method == "POST":
        name = request.form.get("name", "")[:64]
        result = authenticate(services().db, name, request.form.get("password", "")[:1024])
        if result.user is not None:
            user = result.user
            login_user(ConsoleUser(user.id, user.name, user.role, user.session_epoch or 0))
            return redirect(_safe_next(request.args.get("next")))
        if result.reason == "locked":
            error = "ログインに何度も失敗したため、このアカウントは15分間ロックされています。時間をおいてお試しいただくか、管理者に連絡してください。"
        else:
            error = "ユーザー名またはパスワードが違います。"
    return render_template("admin/login.html", error=error, name=name), (401 if error else 200)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        with services().db.session() as s:
            record(s, actor(), "logout", f"user:{actor()}")
        logout_user()
    flash("ログアウトしました。")
    return redirect(url_for("admin.login"))


from bot.admin import (  # noqa: E402  (the pages register their routes on bp)
    dashboard_views,
    posters_views,
    scripts_views,
    submissions_views,
    users_views,
)

__all__ = ["bp", "dashboard_views", "posters_views", "scripts_views", "submissions_views", "users_views"]
