"""Staff accounts: argon2 password hashes, login with per-account lockout, role checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from bot.staff.audit import record
from bot.staff.models import ROLES, StaffUser
from bot.storage.db import Database
from bot.storage.models import utcnow

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_CHARS = 10
_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-kawasaki")

# What each role may do. Personal data (names, addresses, ...) only for admin and editor.
PERMISSIONS = {
    "admin": {"view", "edit_scripts", "change_status", "see_personal", "posters", "manage_users", "see_audit"},
    "editor": {"view", "edit_scripts", "change_status", "see_personal", "posters"},
    "viewer": {"view"},
}


class AccountError(ValueError):
    """A staff-facing (Japanese) reason an account operation was refused."""


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None
    reason: str = ""  # "ok" | "bad" | "locked" | "inactive"
    locked_until: datetime | None = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"パスワードは{MIN_PASSWORD_CHARS}文字以上にしてください。")


def can(role: str | None, permission: str) -> bool:
    return permission in PERMISSIONS.get(role or "", set())


def create_user(db: Database, name: str, role: str, password: str, *, actor: str) -> StaffUser:
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("ユーザー名は1〜64文字にしてください。")
    if role not in ROLES:
        raise AccountError("役割は admin / editor / viewer のどれかです。")
    check_password_rules(password)
    with db.session() as s:
        if s.scalar(select(StaffUser.id).where(StaffUser.name == name)) is not None:
            raise AccountError(f"ユーザー「{name}」はすでにあります。")
        user = StaffUser(name=name, role=role, password_hash=hash_password(password), active=True,
                         failed_logins=0, session_epoch=0, created_at=utcnow())
        s.add(user)
        s.flush()
        record(s, actor, "user.create", f"user:{name}", "", f"role={role}")
        return user


def authenticate(db: Database, name: str, password: str, *, now: datetime | None = None) -> LoginResult:
    """Check a login. Five wrong passwords in a row lock the account for 15 minutes; a correct
    password during the lockout is refused too (otherwise the lock would only slow guessing)."""
    now = now or utcnow()
    with db.session() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.name == name.strip()).with_for_update())
        if user is None:
            _verify(_DUMMY_HASH, password)
            return LoginResult(None, "bad")
        locked = user.locked_until
        if locked is not None and locked.tzinfo is None:  # SQLite returns naive datetimes
            locked = locked.replace(tzinfo=now.tzinfo)
        if locked is not None and locked > now:
            record(s, name, "login.refused_locked", f"user:{user.name}", "", "")
            return LoginResult(None, "locked", locked)
        if not _verify(user.password_hash, password):
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
                record(s, name, "login.locked", f"user:{user.name}", "", f"until={user.locked_until.isoformat()}")
                return LoginResult(None, "locked", user.locked_until)
            record(s, name, "login.failed", f"user:{user.name}", "", f"failures={user.failed_logins}")
            return LoginResult(None, "bad")
        if not user.active:
            return LoginResult(None, "inactive")
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        record(s, user.name, "login.ok", f"user:{user.name}", "", "")
        return LoginResult(user, "ok")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def get_user(db: Database, user_id: int) -> StaffUser | None:
    with db.session() as s:
        return s.get(StaffUser, user_id)


def list_users(db: Database) -> list[StaffUser]:
    with db.session() as s:
        return list(s.scalars(select(StaffUser).order_by(StaffUser.name)))


def update_user(db: Database, user_id: int, *, actor: str, role: str | None = None, active: bool | None = None,
                password: str | None = None, unlock: bool = False) -> StaffUser:
    with db.session() as s:
        user = s.get(StaffUser, user_id)
        if user is None:
            raise AccountError("そのユーザーはいません。")
        before = f"role={user.role} active={user.active} locked={bool(user.locked_until)}"
        if role is not None:
            if role not in ROLES:
                raise AccountError("役割は admin / editor / viewer のどれかです。")
            user.role = role
        if active is not None:
            user.active = active
        if password is not None:
            check_password_rules(password)
            user.password_hash = hash_password(password)
        if unlock:
            user.locked_until = None
            user.failed_logins = 0
        if role is not None or active is not None or password is not None:
            user.session_epoch = (user.session_epoch or 0) + 1  # sign the account out everywhere
        after = f"role={user.role} active={user.active} locked={bool(user.locked_until)}"
        if password is not None:
            after += " password=changed"
        record(s, actor, "user.update", f"user:{user.name}", before, after)
        return user
