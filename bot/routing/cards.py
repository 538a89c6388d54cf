"""LINE messages (Messaging API JSON, camelCase) for routing answers.

- `procedure_card`: the found procedure as a Flex bubble with the next-step button,
- `candidates_message`: "もしかして…" with quick replies,
- `no_procedure_message`: nothing matched (or a dialogue act) + e-KAWASAKI portal search link.

Values marked UNVERIFIED in the catalog are never shown as fact: the card tells the resident to
confirm on the official page or to call サンキューコールかわさき.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.catalog.schema import ProcedureRecord
from bot.routing.router import Candidate

CALL_CENTER_NAME = "サンキューコールかわさき"
CALL_CENTER_PHONE = "044-200-3939"
CALL_CENTER_HOURS = "毎日8:00〜21:00"
# e-KAWASAKI portal (procedure search). The exact address is UNVERIFIED (shared/facts): staff must
# confirm it; the message therefore also gives the call centre.
PORTAL_URL = "https://lgpos.task-asp.net/cu/141305/ea/residents/portal/home"
CONFIRM = f"公式ページで確認するか、{CALL_CENTER_NAME}（{CALL_CENTER_PHONE}）にお問い合わせください"

LABEL_MAX = 20
QUICK_REPLY_MAX = 13
ALT_TEXT_MAX = 400  # LINE allows 1500; a notification preview shows far less
DISPLAY_TEXT_MAX = 300
TEXT_MAX = 5000

CHANNEL_LABEL = {
    "chat": "このLINEで申し込めます",
    "ekawasaki": "オンライン手続かわさき（e-KAWASAKI）で申請",
    "pittari": "マイナポータル（ぴったりサービス）で申請",
    "logoform": "LoGoフォーム（オンライン）で申請",
    "external": "専用のサイトで申し込み",
    "counter": "窓口で手続",
}
BUTTON = {
    "chat": ("start_form", "このLINEで申し込む"),
    "ekawasaki": ("handoff", "申請ページを開く"),
    "pittari": ("handoff", "申請ページを開く"),
    "logoform": ("handoff", "申請ページを開く"),
    "external": ("handoff", "申し込みページを開く"),
    "counter": ("counter", "窓口の案内を見る"),
}
_UNVERIFIED_PAREN_RE = re.compile(r"[（(][^（）()]*(?:UNVERIFIED|未確認)[^（）()]*[）)]", re.IGNORECASE)
_UNVERIFIED_WORD_RE = re.compile(r"UNVERIFIED|未確認", re.IGNORECASE)


def _clean(value: Any) -> tuple[str, bool]:
    """Text without internal UNVERIFIED notes, and whether it carried one."""
    text = str(value or "").strip()
    flagged = bool(_UNVERIFIED_WORD_RE.search(text))
    text = _UNVERIFIED_PAREN_RE.sub("", text)
    text = _UNVERIFIED_WORD_RE.sub("", text).strip(" 、")
    return text, flagged


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_label(name: str, limit: int = LABEL_MAX) -> str:
    """Quick-reply / button label: drop bracketed detail first, then cut with an ellipsis."""
    name = name.strip()
    if len(name) <= limit:
        return name
    short = re.sub(r"[（(【［\[][^）)】］\]]*[）)】］\]]", "", name).strip() or name
    return truncate(short, limit)


def _text(text: str, **kw: Any) -> dict:
    return {"type": "text", "text": text or " ", "wrap": True, **kw}


def _row(label: str, value: str, note: str | None = None) -> dict:
    contents = [_text(value, size="sm", color="#333333")]
    if note:
        contents.append(_text(note, size="xs", color="#B45309"))
    return {
        "type": "box",
        "layout": "vertical",
        "margin": "md",
        "spacing": "xs",
        "contents": [_text(label, size="xs", color="#888888", weight="bold"), *contents],
    }


def _fee_line(p: ProcedureRecord) -> tuple[str, str | None]:
    fee = p.requirements.get("fee") if isinstance(p.requirements, dict) else None
    payment = p.requirements.get("payment") if isinstance(p.requirements, dict) else None
    if fee is None:
        if payment is False:
            return "かかりません", None
        return f"{CONFIRM}。", None
    if not p.fee_is_fact():
        return f"金額は{CONFIRM}。", None
    amount, unit = fee.get("amount_yen"), fee.get("unit")
    note, _ = _clean(fee.get("note"))
    if amount == 0:
        return "無料", None
    if amount is not None:
        return f"{amount:,}円" + (f"（{unit}）" if unit else ""), (note or None)
    if note:
        return note, None
    return f"金額は{CONFIRM}。", None


def _field(p: ProcedureRecord, path: str, value: Any) -> tuple[str, str | None]:
    text, flagged = _clean(value)
    if flagged or p.is_unverified(path):
        return text, f"※未確認の情報です。{CONFIRM}。"
    return text, None


def _contact_text(contact: Any) -> str:
    if isinstance(contact, dict):
        section, _ = _clean(contact.get("section"))
        label = contact.get("phone_label") or ""
        phone = contact.get("phone") or ""
        parts = [section, f"{label} {phone}".strip()]
        note, _ = _clean(contact.get("note"))
        return "\n".join(x for x in [*parts, note] if x)
    text, _ = _clean(contact)
    return text


def procedure_card(p: ProcedureRecord) -> dict:
    """Flex message for one procedure with its next-step postback button."""
    rows: list[dict] = []
    how = CHANNEL_LABEL.get(p.channel, "")
    system, _ = _clean((p.apply or {}).get("system"))
    if system and p.channel == "external":
        how = f"{system}で申し込み"
    rows.append(_row("申し込み方法", how, f"※未確認の情報です。{CONFIRM}。" if p.is_unverified("channel")
                     else None))
    counter = (p.apply or {}).get("counter")
    hours = (p.apply or {}).get("hours")
    if counter:
        value, note = _field(p, "apply.counter", counter)
        if hours:
            h, hnote = _field(p, "apply.hours", hours)
            value, note = f"{value}\n{h}", note or hnote
        rows.append(_row("窓口" if p.channel == "counter" else "窓口でも手続できます", value, note))
    req = p.requirements if isinstance(p.requirements, dict) else {}
    prepare: list[str] = []
    if req.get("mynumber_card"):
        prepare.append("マイナンバーカード" + ("（暗証番号も必要）" if req.get("pin_needed") else ""))
    flagged_docs = p.is_unverified("requirements.documents")
    for doc in (req.get("documents") or [])[:5]:
        text, flagged = _clean(doc)
        flagged_docs = flagged_docs or flagged
        if text:
            prepare.append(text)
    if prepare:
        rows.append(_row("用意するもの", "\n".join(f"・{x}" for x in prepare),
                         f"※未確認の情報があります。{CONFIRM}。" if flagged_docs else None))
    fee_text, fee_note = _fee_line(p)
    rows.append(_row("手数料", fee_text, fee_note))
    if p.eta:
        eta, eta_note = _field(p, "eta", p.eta)
        rows.append(_row("かかる時間のめやす", eta, eta_note))
    if p.contact:
        contact = _contact_text(p.contact)
        if contact:
            rows.append(_row("問い合わせ", contact))
    description, _ = _clean(p.description)
    action, label = BUTTON.get(p.channel, ("handoff", "詳しく見る"))
    bubble = {
        "type": "bubble",
        "size": "mega",
        "header": {
            "type": "box",
            "layout": "vertical",
            "contents": [
                _text("手続のご案内", size="xs", color="#06C755", weight="bold"),
                _text(p.name, size="lg", weight="bold"),
            ],
        },
        "body": {
            "type": "box",
            "layout": "vertical",
            "contents": [_text(truncate(description or p.category or p.name, 200), size="sm",
                               color="#555555"), {"type": "separator", "margin": "md"}, *rows],
        },
        "footer": {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": [{
                "type": "button",
                "style": "primary",
                "color": "#06C755",
                "action": {
                    "type": "postback",
                    "label": label,
                    "data": f"action={action}&proc={p.id}",
                    "displayText": truncate(f"{p.name}を{'申し込む' if action != 'counter' else '窓口で手続する'}",
                                            DISPLAY_TEXT_MAX),
                },
            }],
        },
    }
    alt = truncate(f"{p.name}: {CHANNEL_LABEL.get(p.channel, '')}", ALT_TEXT_MAX)
    return {"type": "flex", "altText": alt, "contents": bubble}


def candidates_message(candidates: Sequence[Candidate], intro: str | None = None) -> dict:
    """Text with numbered full names + quick replies (postback `action=pick&proc=<id>`)."""
    cands = list(candidates)[: QUICK_REPLY_MAX - 1]  # one slot for "どれでもない"
    lines = [intro or "もしかして、次のどれかの手続ですか？ 下のボタンから選んでください。"]
    lines += [f"{i}. {c.name}" for i, c in enumerate(cands, 1)]
    items = [
        {
            "type": "action",
            "action": {
                "type": "postback",
                "label": short_label(c.name),
                "data": f"action=pick&proc={c.id}",
                "displayText": truncate(c.name, DISPLAY_TEXT_MAX),
            },
        }
        for c in cands
    ]
    items.append({
        "type": "action",
        "action": {"type": "postback", "label": "どれでもない", "data": "action=pick_none",
                   "displayText": "どれでもない"},
    })
    return {"type": "text", "text": truncate("\n".join(lines), TEXT_MAX), "quickReply": {"items": items}}


_ACT_TEXT = {
    "greet": "こんにちは。川崎市の手続をご案内します。したいことを短く送ってください（例：「住民票がほしい」「粗大ごみを出したい」）。",
    "thanks": "どういたしまして。ほかにも手続のことがあれば、いつでも送ってください。",
    "goodbye": "ご利用ありがとうございました。",
    "help": "したいことを短く送ってください（例：「引っ越しする」「保育園に入りたい」）。合う手続をご案内します。",
}


def no_procedure_message(act: str | None = None) -> dict:
    """No procedure found (or a dialogue act): a short answer + e-KAWASAKI portal search button."""
    text = _ACT_TEXT.get(act or "", (
        "ごめんなさい。お探しの手続が見つかりませんでした。"
        "ちがう言い方で送るか、オンライン手続かわさき（e-KAWASAKI）で手続をさがしてください。"
        f"電話でのお問い合わせは{CALL_CENTER_NAME}（{CALL_CENTER_PHONE}、{CALL_CENTER_HOURS}）へ。"
    ))
    bubble = {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "contents": [_text(text, size="sm")]},
        "footer": {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": [
                {"type": "button", "style": "primary", "color": "#06C755",
                 "action": {"type": "uri", "label": "e-KAWASAKIで手続をさがす", "uri": PORTAL_URL}},
                {"type": "button", "style": "secondary",
                 "action": {"type": "uri", "label": "電話で聞く", "uri": "tel:" + CALL_CENTER_PHONE.replace("-", "")}},
            ],
        },
    }
    return {"type": "flex", "altText": truncate(text, ALT_TEXT_MAX), "contents": bubble}


def messages_for(decision: Any) -> list[dict]:
    """Messages for a RouteDecision."""
    if decision.kind == "procedure" and decision.procedure is not None:
        return [procedure_card(decision.procedure)]
    if decision.kind == "candidates" and decision.candidates:
        return [candidates_message(decision.candidates)]
    return [no_procedure_message(decision.act)]
