"""The owning section is told by e-mail (a real local SMTP server), without personal data."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from bot.forms.effects import SubmitForm
from bot.storage.db import Database
from bot.submissions.crypto import load_cipher
from bot.submissions.mail import MailNotifier
from bot.submissions.store import LogNotifier, SectionNotifier, SubmissionStore, notify_pending


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls this hook by name
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append((list(envelope.rcpt_tos), f"{mail['Subject']}\n{mail.get_content()}"))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", inbox
    controller.stop()


def _submit(instance: str) -> SubmitForm:
    return SubmitForm(instance_id=instance, procedure_id="sodaigomi", script_id="sodaigomi", script_version="1",
                      answers={"name": "川崎 太郎", "items": ["ソファ"]}, personal_fields=("name",),
                      notify={"kind": "mail", "to": "sodai-center@example.jp"})


def test_section_gets_one_mail_without_personal_data(pg_database, tmp_path, smtp) -> None:
    url, inbox = smtp
    store = SubmissionStore(Database(pg_database), load_cipher(tmp_path))
    stored = store.store(_submit(uuid.uuid4().hex), user_id="U" + "7" * 32)
    mail = MailNotifier(url, "line-intake@example.jp", "https://bot.example.jp", lambda pid: "粗大ごみ収集申込手続")
    notifiers = {"log": LogNotifier(), "mail": mail}
    assert notify_pending(store, notifiers) >= 1
    assert notify_pending(store, notifiers) == 0  # at least once, and not again
    (to, body), *_ = [m for m in inbox.mails if stored.receipt_no in m[1]]
    assert to == ["sodai-center@example.jp"]
    assert f"https://bot.example.jp/admin/submissions/{stored.receipt_no}" in body
    assert "川崎" not in body


def test_a_mail_server_that_is_down_is_retried_later(pg_database, tmp_path, smtp) -> None:
    url, inbox = smtp
    store = SubmissionStore(Database(pg_database), load_cipher(tmp_path))
    stored = store.store(_submit(uuid.uuid4().hex), user_id="U" + "8" * 32)
    down = MailNotifier("smtp://127.0.0.1:9", "x@example.jp", "https://bot.example.jp", timeout_s=1.0)
    notify_pending(store, {"log": LogNotifier(), "mail": down})  # no exception: the turn goes on
    assert not any(stored.receipt_no in m[1] for m in inbox.mails)
    up = MailNotifier(url, "x@example.jp", "https://bot.example.jp")
    notify_pending(store, {"log": LogNotifier(), "mail": up})
    assert any(stored.receipt_no in m[1] for m in inbox.mails)


def test_two_workers_never_send_the_same_notice(pg_database, tmp_path) -> None:
    store = SubmissionStore(Database(pg_database), load_cipher(tmp_path))
    receipts = [store.store(_submit(uuid.uuid4().hex), user_id="U" + "9" * 32).receipt_no for _ in range(8)]
    sent: list[str] = []
    lock = threading.Lock()

    def slow_mail(sub) -> None:
        time.sleep(0.02)  # long enough for the other worker to look at the same row
        with lock:
            sent.append(sub.receipt_no)

    notifiers = {"log": LogNotifier(), "mail": slow_mail}
    workers = [threading.Thread(target=notify_pending, args=(store, notifiers)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert sorted(r for r in sent if r in receipts) == sorted(receipts)


def test_the_notifier_thread_sends_after_a_wake_and_catches_up_after_an_outage(pg_database, tmp_path, smtp) -> None:
    url, inbox = smtp
    store = SubmissionStore(Database(pg_database), load_cipher(tmp_path))
    mail = MailNotifier("smtp://127.0.0.1:9", "x@example.jp", "https://bot.example.jp", timeout_s=1.0)
    notifier = SectionNotifier(store, {"log": LogNotifier(), "mail": mail}, interval_s=0.5)
    stop = threading.Event()
    thread = notifier.start(stop)
    try:
        stored = store.store(_submit(uuid.uuid4().hex), user_id="U" + "6" * 32)
        notifier.wake()
        time.sleep(1.5)  # the mail server is down: nothing sent, nothing lost
        assert not any(stored.receipt_no in m[1] for m in inbox.mails)
        mail.url = urlsplit(url)  # the server is back: the next pass sends it
        deadline = time.time() + 10
        while time.time() < deadline and not any(stored.receipt_no in m[1] for m in inbox.mails):
            time.sleep(0.05)
        assert any(stored.receipt_no in m[1] for m in inbox.mails)
    finally:
        stop.set()
        notifier.wake()
        thread.join(5)
