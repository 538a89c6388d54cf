"""`kawasaki-bot staff …`: manage console accounts from the terminal."""

from __future__ import annotations

import sys

import click

from bot.staff.models import ROLES


def _db():
    from bot.config import load_settings
    from bot.storage.db import Database

    return Database(load_settings().database_url)


@click.group("staff")
def staff() -> None:
    """管理画面（/admin）の職員アカウントを扱います。"""


@staff.command("create-user")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="admin / editor / viewer")
def create_user_cmd(name: str, role: str) -> None:
    """職員アカウントを作ります。パスワードは標準入力の1行目から読みます。"""
    from bot.staff.accounts import AccountError, create_user

    password = sys.stdin.readline().rstrip("\r\n")
    db = _db()
    try:
        create_user(db, name, role, password, actor="cli")
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(f"ユーザー「{name}」（{role}）を作りました。")


@staff.command("unlock")
@click.argument("name")
def unlock_cmd(name: str) -> None:
    """ロックされたアカウントのロックを解除します。"""
    from sqlalchemy import select

    from bot.staff.accounts import update_user
    from bot.staff.models import StaffUser

    db = _db()
    try:
        with db.session() as s:
            user_id = s.scalar(select(StaffUser.id).where(StaffUser.name == name))
        if user_id is None:
            raise click.ClickException(f"ユーザー「{name}」はいません。")
        update_user(db, user_id, actor="cli", unlock=True)
    finally:
        db.dispose()
    click.echo(f"ユーザー「{name}」のロックを解除しました。")
