"""Finding a procedure in the conversation: text → NLU → router → card, and the card's buttons.

The hand-off here is the plain version (where to apply, what to prepare, a link). Tracked deep
links, variant questions and QR starts build on it (issue 5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.catalog.index import Catalog
from bot.catalog.schema import ProcedureRecord
from bot.conversation.core import Skills, TurnContext, TurnResult
from bot.conversation.incoming import Incoming
from bot.conversation.messages import text
from bot.effects import Analytics
from bot.nlu.result import NluResult
from bot.routing.cards import CONFIRM, messages_for, procedure_card, truncate
from bot.routing.router import route

NOT_FOUND = "申し訳ありません。その手続きは見つかりませんでした。もう一度、やりたいことを文章で送ってください。"


@dataclass
class ProcedureSkill:
    parse: Callable[[str], NluResult]
    catalog: Callable[[], Catalog]

    def find(self, session: dict, incoming: Incoming, ctx: TurnContext) -> TurnResult:
        utterance = incoming.text or ""
        nlu = self.parse(utterance)
        decision = route(nlu, self.catalog(), utterance)
        effects: list = []
        if decision.kind == "procedure" and decision.procedure is not None:
            effects.append(Analytics("procedure_found", decision.procedure.id,
                                     {"confidence": round(decision.confidence, 3), "backend": nlu.backend}))
        elif decision.kind == "candidates":
            effects.append(Analytics("procedure_candidates", None,
                                     {"candidates": [c.id for c in decision.candidates[:3]]}))
        else:
            effects.append(Analytics("no_procedure", None, {"act": decision.act or ""}))
        return TurnResult(session, messages_for(decision), effects)

    def _procedure(self, data: dict) -> ProcedureRecord | None:
        return self.catalog().get(data.get("proc", ""))

    def pick(self, session: dict, data: dict, incoming: Incoming, ctx: TurnContext) -> TurnResult:
        proc = self._procedure(data)
        if proc is None:
            return TurnResult(session, [text(NOT_FOUND)])
        return TurnResult(session, [procedure_card(proc)], [Analytics("procedure_picked", proc.id)])

    def handoff(self, session: dict, data: dict, incoming: Incoming, ctx: TurnContext) -> TurnResult:
        proc = self._procedure(data)
        if proc is None:
            return TurnResult(session, [text(NOT_FOUND)])
        return TurnResult(session, [handoff_message(proc)], [Analytics("handoff_shown", proc.id,
                                                                       {"channel": proc.channel})])

    def counter(self, session: dict, data: dict, incoming: Incoming, ctx: TurnContext) -> TurnResult:
        proc = self._procedure(data)
        if proc is None:
            return TurnResult(session, [text(NOT_FOUND)])
        return TurnResult(session, [text(counter_text(proc))], [Analytics("counter_guidance", proc.id)])

    def register(self, skills: Skills) -> None:
        skills.find = self.find
        skills.postbacks.update({"pick": self.pick, "handoff": self.handoff, "counter": self.counter})
        # Until a chat form exists for a procedure, its button leads to the other ways to apply.
        skills.postbacks.setdefault("start_form", self.handoff)


def _prepare_lines(proc: ProcedureRecord) -> list[str]:
    req = proc.requirements or {}
    lines = []
    if req.get("mynumber_card"):
        lines.append("マイナンバーカード" + ("と暗証番号" if req.get("pin_needed") else ""))
    if req.get("payment"):
        lines.append("手数料の支払い（クレジットカードなど）")
    for doc in req.get("documents") or []:
        if isinstance(doc, str) and "UNVERIFIED" not in doc.upper():
            lines.append(doc)
    return lines[:6]


def handoff_message(proc: ProcedureRecord) -> dict:
    apply = proc.apply or {}
    url = apply.get("url") if isinstance(apply.get("url"), str) else None
    system = apply.get("system") or "申請ページ"
    body = [f"この手続きは「{system}」で申請します。"]
    prepare = _prepare_lines(proc)
    if prepare:
        body.append("準備するもの：\n" + "\n".join(f"・{p}" for p in prepare))
    if not apply.get("url_verified", False) or proc.is_unverified("requirements.documents"):
        body.append(f"リンク先や必要なものが変わっている場合があります。{CONFIRM}。")
    contents = [
        {"type": "text", "text": truncate(proc.name, 120), "weight": "bold", "wrap": True},
        {"type": "text", "text": truncate("\n\n".join(body), 1500), "size": "sm", "wrap": True, "margin": "md"},
    ]
    bubble: dict = {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": contents}}
    if url and url.startswith("https://"):
        bubble["footer"] = {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "style": "primary", "color": "#06C755",
             "action": {"type": "uri", "label": "申請ページを開く", "uri": url}}]}
    return {"type": "flex", "altText": truncate(f"{proc.name}の申請方法", 400), "contents": bubble}


def counter_text(proc: ProcedureRecord) -> str:
    apply = proc.apply or {}
    lines = [f"{proc.name}は、窓口での手続きです。"]
    if apply.get("counter") and not proc.is_unverified("apply.counter"):
        lines.append(f"窓口：{apply['counter']}")
    if apply.get("hours") and not proc.is_unverified("apply.hours"):
        lines.append(f"受付時間：{apply['hours']}")
    prepare = _prepare_lines(proc)
    if prepare:
        lines.append("持ち物：" + "、".join(prepare))
    lines.append(f"くわしくは{CONFIRM}。")
    return truncate("\n".join(lines), 5000)
