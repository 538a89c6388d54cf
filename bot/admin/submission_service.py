"""Submissions for staff: filtered lists, decrypted detail for roles that may see personal data,
status changes that tell the resident in LINE, CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cryptography.fernet import InvalidToken
from sqlalchemy import func, select, update

from bot.forms.registry import ScriptRegistry
from bot.line_api import retry_key_for
from bot.staff.audit import record
from bot.storage.models import utcnow
from bot.submissions.crypto import decrypt_json
from bot.submissions.models import STATUSES, Submission
from bot.submissions.store import SubmissionStore

JST = ZoneInfo("Asia/Tokyo")
MASK = "＊＊＊"
PAGE_SIZE = 50
# Which status may follow which (受付 → 処理中 → 完了, or 差し戻し from 受付/処理中; 差し戻し → 処理中 again).
NEXT_STATUS = {"受付": ("処理中", "差し戻し"), "処理中": ("完了", "差し戻し"), "差し戻し": ("処理中",), "完了": ()}


@dataclass(frozen=True)
class Filters:
    procedure: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    receipt: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        def day(raw: str | None) -> date | None:
            try:
                return date.fromisoformat(raw) if raw else None
            except ValueError:
                return None

        status = args.get("status", "")
        return cls(procedure=args.get("procedure", "")[:128], status=status if status in STATUSES else "",
                   date_from=day(args.get("from")), date_to=day(args.get("to")),
                   receipt=args.get("receipt", "").strip().upper()[:20])

    def apply(self, query):
        if self.procedure:
            query = query.where(Submission.procedure_id == self.procedure)
        if self.status:
            query = query.where(Submission.status == self.status)
        if self.date_from:
            query = query.where(Submission.created_at >= datetime.combine(self.date_from, time(), JST))
        if self.date_to:
            query = query.where(Submission.created_at < datetime.combine(self.date_to + timedelta(days=1), time(), JST))
        if self.receipt:
            query = query.where(Submission.receipt_no.contains(self.receipt))
        return query


@dataclass(frozen=True)
class Detail:
    sub: Submission
    rows: list[tuple[str, str]]  # what the resident confirmed (label, value), masked for viewers
    masked: bool


class SubmissionAdmin:
    def __init__(self, store: SubmissionStore, registry: ScriptRegistry, line) -> None:
        self.store = store
        self.db = store.db
        self.registry = registry
        self.line = line

    def page(self, filters: Filters, page: int = 1) -> tuple[list[Submission], int]:
        with self.db.session() as s:
            total = s.scalar(filters.apply(select(func.count()).select_from(Submission))) or 0
            rows = list(s.scalars(filters.apply(select(Submission)).order_by(Submission.created_at.desc())
                                  .offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return rows, int(total)

    def draft_hashes(self, subs: list[Submission]) -> set[str]:
        """Hashes among `subs` that are console drafts: applications sent while trying a draft."""
        from bot.forms.versions import ScriptVersion

        hashes = {s.script_hash for s in subs if s.script_hash}
        if not hashes:
            return set()
        with self.db.session() as s:
            return set(s.scalars(select(ScriptVersion.content_hash).where(
                ScriptVersion.kind == "draft", ScriptVersion.content_hash.in_(hashes))))

    def procedures(self) -> list[tuple[str, str]]:
        with self.db.session() as s:
            ids = sorted(s.scalars(select(Submission.procedure_id).distinct()))
        return [(pid, self.procedure_name(pid)) for pid in ids]

    def procedure_name(self, procedure_id: str) -> str:
        script = next((sc for sc in self.registry.all() if sc.procedure_id == procedure_id), None)
        return script.name if script else procedure_id

    def get(self, receipt_no: str) -> Submission | None:
        with self.db.session() as s:
            return s.scalar(select(Submission).where(Submission.receipt_no == receipt_no))

    def detail(self, sub: Submission, *, see_personal: bool) -> Detail:
        rows = self._rows(sub)
        if see_personal:
            return Detail(sub, rows, False)
        personal = self._personal_labels(sub)
        if personal is None:  # the script version is unknown: hide every value rather than guess
            return Detail(sub, [(label, MASK) for label, _ in rows], True)
        return Detail(sub, [(label, MASK if label in personal else value) for label, value in rows], True)

    def _rows(self, sub: Submission) -> list[tuple[str, str]]:
        if not sub.summary_enc:
            return [(k, str(v)) for k, v in (sub.answers or {}).items()]
        try:
            data = decrypt_json(self.store.cipher, sub.summary_enc)
        except (InvalidToken, ValueError):
            return [("（復号できません）", "データの鍵（KB_DATA_KEY）を確認してください")]
        return [(str(r[0]), str(r[1])) for r in data.get("rows", []) if isinstance(r, list | tuple) and len(r) == 2]

    def _personal_labels(self, sub: Submission) -> set[str] | None:
        script = self.registry.get(sub.script_id, sub.script_hash) if sub.script_hash else None
        if script is None:
            return None
        return {str(s.get("label") or s.get("id")) for s in script.slots if s.get("personal")}

    def change_status(self, sub: Submission, new_status: str, *, actor: str, message: str = "") -> tuple[bool, str]:
        """Change the status (only along NEXT_STATUS) and tell the resident. Returns (ok, note for staff)."""
        if new_status not in NEXT_STATUS.get(sub.status, ()):
            return False, f"「{sub.status}」から「{new_status}」には変えられません。"
        if new_status == "差し戻し" and not message.strip():
            return False, "差し戻すときは、住民の方に伝える理由を書いてください。"
        previous_update = sub.updated_at
        with self.db.session() as s:
            changed = s.execute(update(Submission).where(Submission.id == sub.id, Submission.status == sub.status)
                                .values(status=new_status, updated_at=utcnow())).rowcount
            if changed != 1:
                return False, "ほかの職員が先にステータスを変えました。画面を読み込み直してください。"
            record(s, actor, "submission.status", f"submission:{sub.receipt_no}", sub.status, new_status,
                   message=message.strip()[:300])
        key = retry_key_for(f"status:{sub.id}:{sub.status}>{new_status}:{previous_update.isoformat() if previous_update else ''}")
        try:
            user_id = self.store.cipher.decrypt(sub.user_id_enc.encode()).decode()
        except InvalidToken:
            return True, "ステータスを変えましたが、LINEで通知できませんでした（データの鍵が違います）。"
        text = status_notice(sub.receipt_no, self.procedure_name(sub.procedure_id), new_status, message.strip(),
                             self._contact(sub))
        result = self.line.push(user_id, [{"type": "text", "text": text}], retry_key=key)
        with self.db.session() as s:
            record(s, actor, "submission.notify", f"submission:{sub.receipt_no}", "", result.status,
                   http_status=result.http_status)
        if not result.delivered:
            return True, "ステータスを変えましたが、LINEでの通知に失敗しました。必要なら電話などでお知らせください。"
        return True, f"ステータスを「{new_status}」にして、LINEで住民の方にお知らせしました。"

    def _contact(self, sub: Submission) -> str:
        script = self.registry.get(sub.script_id, sub.script_hash) if sub.script_hash else None
        owner = (script.owner if script else {}) or {}
        return str(owner.get("phone") or owner.get("contact") or owner.get("section") or "川崎市")

    def csv_bytes(self, filters: Filters, *, see_personal: bool, limit: int = 10_000) -> tuple[bytes, int]:
        with self.db.session() as s:
            subs = list(s.scalars(filters.apply(select(Submission)).order_by(Submission.created_at).limit(limit)))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["受付番号", "受付日時", "手続き", "ステータス", "更新日時", "内容"])
        for sub in subs:
            detail = self.detail(sub, see_personal=see_personal)
            writer.writerow([sub.receipt_no, _jst(sub.created_at), self.procedure_name(sub.procedure_id), sub.status,
                             _jst(sub.updated_at), " / ".join(f"{k}: {v}" for k, v in detail.rows)])
        return ("\ufeff" + out.getvalue()).encode("utf-8"), len(subs)  # BOM: Excel opens UTF-8 correctly


def status_notice(receipt_no: str, procedure: str, status: str, message: str, contact: str) -> str:
    head = f"受付番号 {receipt_no}（{procedure}）について"
    if status == "処理中":
        body = f"{head}、担当の課で手続きを進めています。"
    elif status == "完了":
        body = f"{head}、手続きが完了しました。ご利用ありがとうございました。"
    elif status == "差し戻し":
        body = f"{head}、確認したいことがあります。\n{message}\nお手数ですが、{contact} にお問い合わせください。"
    else:
        body = f"{head}、状況が「{status}」になりました。"
    if message and status != "差し戻し":
        body += f"\n担当者より: {message}"
    return body[:4900]


def _jst(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M")
