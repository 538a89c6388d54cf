"""Staff accounts (admin only): create, change role, unlock, deactivate, reset password."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from bot.admin.security import actor, requires, services
from bot.admin.views import bp
from bot.staff.accounts import AccountError, create_user, list_users, update_user
from bot.staff.models import ROLES


@bp.get("/users")
@requires("manage_users")
def users():
    return render_template("admin/users.html", users=list_users(services().db), roles=ROLES)


@bp.post("/users")
@requires("manage_users")
def users_create():
    try:
        create_user(services().db, request.form.get("name", ""), request.form.get("role", ""),
                    request.form.get("password", ""), actor=actor())
        flash("アカウントを作りました。")
    except AccountError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>")
@requires("manage_users")
def users_update(user_id: int):
    op = request.form.get("op", "")
    if user_id == current_user.user_id and op in ("role", "deactivate"):
        flash("自分の役割の変更や無効化はできません（ほかの管理者に頼んでください）。", "error")
        return redirect(url_for("admin.users"))
    try:
        if op == "role":
            update_user(services().db, user_id, actor=actor(), role=request.form.get("role", ""))
        elif op == "unlock":
            update_user(services().db, user_id, actor=actor(), unlock=True)
        elif op == "deactivate":
            update_user(services().db, user_id, actor=actor(), active=False)
        elif op == "activate":
            update_user(services().db, user_id, actor=actor(), active=True)
        elif op == "password":
            update_user(services().db, user_id, actor=actor(), password=request.form.get("password", ""))
        else:
            raise AccountError("操作が正しくありません。")
        flash("変更しました。")
    except AccountError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.users"))
