"""Tell the owning section by e-mail that an application arrived.

The mail carries the receipt number, the procedure and a link to the staff console, never the
resident's answers: personal data stays encrypted in the database, behind the console's roles.
Configured by `KB_SMTP_URL` (smtp://user:pass@host:port, smtps:// for TLS on connect,
smtp+starttls:// for STARTTLS) and `KB_MAIL_FROM`.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from bot.submissions.models import Submission

JST = ZoneInfo("Asia/Tokyo")


class MailNotifier:
    def __init__(self, smtp_url: str, sender: str, console_url: str,
                 procedure_name: Callable[[str], str] = lambda pid: pid, timeout_s: float = 10.0) -> None:
        self.url = urlsplit(smtp_url)
        self.sender = sender
        self.console_url = console_url.rstrip("/")
        self.procedure_name = procedure_name
        self.timeout_s = timeout_s

    def message(self, sub: Submission) -> EmailMessage:
        name = self.procedure_name(sub.procedure_id)
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = str(sub.notify.get("to", ""))
        msg["Subject"] = f"【LINE申請】{name}（受付番号 {sub.receipt_no}）"
        msg.set_content(
            "LINEの手続き案内チャットから、新しい申請がありました。\n\n"
            f"手続き：{name}\n受付番号：{sub.receipt_no}\n"
            f"受付日時：{sub.created_at.astimezone(JST):%Y年%m月%d日 %H:%M}\n\n"
            f"内容は職員用の管理画面で確認してください：\n{self.console_url}/admin/submissions/{sub.receipt_no}\n\n"
            "（このメールには個人情報を含めていません。）\n"
        )
        return msg

    def __call__(self, sub: Submission) -> None:
        host, port = self.url.hostname or "localhost", self.url.port
        scheme = self.url.scheme
        client_cls = smtplib.SMTP_SSL if scheme == "smtps" else smtplib.SMTP
        with client_cls(host, port or (465 if scheme == "smtps" else 25), timeout=self.timeout_s) as smtp:
            if scheme == "smtp+starttls":
                smtp.starttls()
            if self.url.username:
                smtp.login(unquote(self.url.username), unquote(self.url.password or ""))
            smtp.send_message(self.message(sub))
