"""The conversation core: a pure function of (state, incoming, context) → result.

No I/O happens here. The worker loads the state, calls `handle_turn`, applies
the effects (SQL, analytics) and sends the messages. Capabilities that take
over part of a conversation (finding a procedure, chat forms, hand-offs) plug
in through `Skills`, so the core stays small and testable without LINE.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl

from bot.conversation import texts
from bot.conversation.incoming import Incoming
from bot.conversation.messages import qr_message, text


@dataclass
class TurnResult:
    session: dict | None  # the new session state; None deletes it
    messages: list[dict] = field(default_factory=list)
    effects: list[Any] = field(default_factory=list)
    # A dict stores the resumable form, False deletes it, None leaves it as it is.
    formsave: dict | bool | None = None


class FormSkill(Protocol):
    """Chat forms (dialog scripts). Implemented in bot/forms/skill.py."""

    def active(self, session: dict) -> bool: ...

    def wants(self, session: dict, postback_data: str | None) -> bool: ...

    def step(self, session: dict, incoming: Incoming, ctx: TurnContext) -> TurnResult: ...

    def offer_resume(self, session: dict, formsave: dict, ctx: TurnContext) -> TurnResult | None: ...


@dataclass
class Skills:
    # Free text that is not a global word and arrives outside a form → find the procedure.
    find: Callable[[dict, Incoming, TurnContext], TurnResult] | None = None
    # Postback actions by their `action=` value (e.g. pick, start_form, handoff).
    postbacks: dict[str, Callable[[dict, dict, Incoming, TurnContext], TurnResult]] = field(default_factory=dict)
    forms: FormSkill | None = None


@dataclass
class TurnContext:
    now: datetime
    skills: Skills
    max_text_chars: int = 1000
    formsave: dict | None = None  # a form suspended when an earlier session expired


HELP_WORDS = {"ヘルプ", "へるぷ", "help", "使い方", "つかいかた", "助けて", "たすけて"}
RESTART_WORDS = {"最初から", "はじめから", "最初からやり直す", "リセット", "reset", "やり直し", "やりなおし"}
CANCEL_WORDS = {"やめる", "やめます", "やめたい", "中止", "キャンセル", "cancel", "止める", "とりやめ"}


def normalize_command(raw: str) -> str:
    s = unicodedata.normalize("NFKC", raw).strip().lower()
    return s.strip("。．.!！?？ 　")


def greeting() -> list[dict]:
    return [text(texts.GREETING, [qr_message(lbl, send) for lbl, send in texts.COMMON_CHOICES])]


def help_messages() -> list[dict]:
    return [text(texts.HELP, [qr_message(lbl, send) for lbl, send in texts.COMMON_CHOICES[:-1]])]


def sensitive_number_messages(in_form: bool) -> list[dict]:
    """Never echo the number; say why, and where My Number procedures are done instead."""
    body = texts.SENSITIVE_NUMBER + ("\n" + texts.SENSITIVE_IN_FORM if in_form else "")
    pittari_button = {
        "type": "template",
        "altText": "マイナンバーやカードの番号は送らないでください",
        "template": {"type": "buttons", "text": "番号は保存せずに消しました。",
                     "actions": [{"type": "uri", "label": "ぴったりサービスを開く", "uri": texts.PITTARI_URL}]},
    }
    return [text(body), pittari_button]


def parse_postback(data: str | None) -> dict[str, str]:
    if not data:
        return {}
    try:
        return dict(parse_qsl(data, keep_blank_values=True, max_num_fields=20))
    except ValueError:
        return {}


def handle_turn(session: dict, incoming: Incoming, ctx: TurnContext) -> TurnResult:
    forms = ctx.skills.forms
    in_form = bool(forms and forms.active(session))
    kind = incoming.kind

    if kind == "follow":
        return TurnResult(session={}, messages=greeting(), formsave=False)
    if kind == "unfollow":
        # Blocked: forget the conversation (nothing can be sent to the resident anyway).
        return TurnResult(session=None, formsave=False)

    if kind == "text":
        if incoming.redacted:
            return TurnResult(session, sensitive_number_messages(in_form))
        raw = incoming.text or ""
        if in_form and forms and (not raw.strip() or len(raw) > ctx.max_text_chars):
            return forms.step(session, incoming, ctx)  # the form re-asks its question, saying what is wrong
        if not raw.strip():
            return TurnResult(session, [text(texts.EMPTY_TEXT)])
        if len(raw) > ctx.max_text_chars:
            return TurnResult(session, [text(texts.too_long(ctx.max_text_chars))])
        command = normalize_command(raw)
        if command in RESTART_WORDS:
            # Abandons any form too (nothing is stored).
            return TurnResult(session={}, messages=[text(texts.RESTARTED, greeting()[0]["quickReply"]["items"])],
                              formsave=False)
        if in_form and forms:
            return forms.step(session, incoming, ctx)  # the form handles ヘルプ, やめる and 戻る itself
        if command in HELP_WORDS:
            return TurnResult(session, help_messages())
        if command in CANCEL_WORDS:
            return TurnResult(session={}, messages=[text(texts.NOTHING_TO_CANCEL)], formsave=False)
        answer = ctx.skills.find(session, incoming, ctx) if ctx.skills.find else TurnResult(session, help_messages())
        if not session and ctx.formsave and forms:
            offered = forms.offer_resume(session, ctx.formsave, ctx)
            if offered is not None:
                # Answer what was asked, and offer to finish the form left unfinished earlier.
                return TurnResult(offered.session, (answer.messages[:3] + offered.messages)[:5], answer.effects)
        return answer

    if kind == "postback":
        if forms and forms.wants(session, incoming.postback_data):
            return forms.step(session, incoming, ctx)
        data = parse_postback(incoming.postback_data)
        handler = ctx.skills.postbacks.get(data.get("action", ""))
        if handler is not None:
            return handler(session, data, incoming, ctx)
        # A stale button (e.g. from an old message): show what the bot can do.
        return TurnResult(session, help_messages())

    if kind in ("image", "location", "sticker", "video", "audio", "file") and in_form and forms:
        return forms.step(session, incoming, ctx)  # the form re-asks its question, saying what it needs
    if kind in ("image", "location"):
        msg = texts.IMAGE_NOT_EXPECTED if kind == "image" else texts.LOCATION_NOT_EXPECTED
        return TurnResult(session, [text(msg)])
    if kind == "sticker":
        return TurnResult(session, [text(texts.STICKER)])
    if kind in ("video", "audio", "file"):
        return TurnResult(session, [text(texts.MEDIA_NOT_ACCEPTED)])
    return TurnResult(session, [text(texts.UNSUPPORTED)])
