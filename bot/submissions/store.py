"""Store a chat-form application exactly once and notify the owning section."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cryptography.fernet import MultiFernet
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bot.logging_setup import user_hash
from bot.storage.db import Database
from bot.storage.models import utcnow
from bot.submissions.crypto import encrypt_json
from bot.submissions.models import Submission

log = logging.getLogger(__name__)
JST = ZoneInfo("Asia/Tokyo")
# Crockford base32 without I, L, O, U: easy to read out on the phone.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_receipt_no(now: datetime) -> str:
    """e.g. KW-261124-7F3K9Q: date for staff, 30 random bits against guessing."""
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    return f"KW-{now.astimezone(JST):%y%m%d}-{tail}"


@dataclass(frozen=True, slots=True)
class StoredSubmission:
    receipt_no: str
    created: bool  # False when this instance was already stored (a re-run or a double tap)


class SubmissionStore:
    def __init__(self, db: Database, cipher: MultiFernet, *, salt: str = "") -> None:
        self.db = db
        self.cipher = cipher
        self.salt = salt

    def store(self, submit, *, user_id: str) -> StoredSubmission:
        """Insert once per form instance (`submit` is a bot.forms.effects.SubmitForm)."""
        personal = {k: v for k, v in submit.answers.items() if k in set(submit.personal_fields)}
        public = {k: v for k, v in submit.answers.items() if k not in set(submit.personal_fields)}
        row = {
            "id": submit.instance_id,
            "procedure_id": submit.procedure_id,
            "script_id": submit.script_id,
            "script_version": str(submit.script_version),
            "script_hash": submit.script_hash,
            "status": "受付",
            "user_id_enc": self.cipher.encrypt(user_id.encode()).decode(),
            "user_hash": user_hash(user_id, self.salt),
            "answers": public,
            "personal_enc": encrypt_json(self.cipher, personal) if personal else "",
            "summary_enc": encrypt_json(self.cipher, {"rows": [list(r) for r in submit.summary]}),
            "notify": dict(submit.notify or {}),
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
        insert = postgresql.insert if self.db.engine.dialect.name == "postgresql" else sqlite.insert
        for _ in range(5):  # a receipt-number collision (1 in 10^9) just draws again
            row["receipt_no"] = new_receipt_no(row["created_at"])
            stmt = insert(Submission).values(**row).on_conflict_do_nothing(index_elements=["id"])
            try:
                with self.db.session() as s:
                    created = s.execute(stmt).rowcount == 1
                    receipt = s.execute(select(Submission.receipt_no).where(Submission.id == submit.instance_id)
                                        ).scalar_one()
            except IntegrityError:
                continue
            if created:
                log.info("submission stored", extra={"receipt_no": receipt, "procedure": submit.procedure_id})
            return StoredSubmission(receipt, created)
        raise RuntimeError("could not allocate a receipt number")

    def pending_notifications(self, limit: int = 50) -> list[str]:
        """Ids of applications whose section has not been told yet, oldest first."""
        with self.db.session() as s:
            return list(s.scalars(select(Submission.id).where(Submission.notified_at.is_(None))
                                  .order_by(Submission.created_at).limit(limit)))

    def notify_once(self, submission_id: str, notify: Callable[[Submission], None]) -> bool:
        """Tell the section about one application, unless another process is doing it or did it.

        The row stays locked (FOR UPDATE SKIP LOCKED) while ``notify`` runs and is marked in the
        same transaction, so two workers never both send it; a crash before the commit leaves it
        unmarked and it is sent again (at least once). ``notify`` raising leaves it unmarked.
        """
        with self.db.session() as s:
            sub = s.scalars(select(Submission)
                            .where(Submission.id == submission_id, Submission.notified_at.is_(None))
                            .with_for_update(skip_locked=True)).first()
            if sub is None:
                return False
            notify(sub)
            s.execute(update(Submission).where(Submission.id == submission_id).values(notified_at=utcnow()))
            return True


class LogNotifier:
    """Tells the owning section through the log (no personal data). Mail plugs in the same way."""

    def __call__(self, sub: Submission) -> None:
        log.info("new application for the section", extra={
            "receipt_no": sub.receipt_no, "procedure": sub.procedure_id, "notify": sub.notify,
        })


def notify_pending(store: SubmissionStore, notifiers: dict[str, object]) -> int:
    """One pass over the applications not yet notified; returns how many were sent.

    At least once: a crash between insert and notice, or a mail server that is down, is caught up
    on a later pass. A failing notifier is logged and retried; it never reaches the resident.
    """
    def send(sub: Submission) -> None:
        kind = str((sub.notify or {}).get("kind", "log"))
        notifier = notifiers.get(kind) or notifiers["log"]
        notifier(sub)  # type: ignore[operator]

    sent = 0
    for submission_id in store.pending_notifications():
        try:
            sent += store.notify_once(submission_id, send)
        except Exception as exc:
            log.warning("section not notified yet; will retry", extra={"submission": submission_id,
                                                                       "error": type(exc).__name__})
    return sent


class SectionNotifier:
    """Tells the owning sections about new applications in the background, not in the turn.

    The resident's 送信 only stores the application (and wakes this thread); sending mail, which may
    be slow or down, never delays or fails their answer. Every ``interval_s`` it also catches up on
    anything a crash or a mail outage left unsent.
    """

    def __init__(self, store: SubmissionStore, notifiers: dict[str, object], interval_s: float = 30.0) -> None:
        self.store = store
        self.notifiers = notifiers
        self.interval_s = interval_s
        self._wake = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(stop,), name="section-notifier", daemon=True)
        thread.start()
        return thread

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                notify_pending(self.store, self.notifiers)
            except Exception as exc:  # the database is down: the next pass catches up
                log.warning("section notification pass failed", extra={"error": type(exc).__name__})
            self._wake.wait(self.interval_s)
            self._wake.clear()
