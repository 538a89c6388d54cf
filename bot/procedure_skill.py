"""Finding a procedure in the conversation, and handing the resident over to where it is done.

text → (QR start code?) → NLU → router → procedure card; then, for procedures done on another
system, the one to three variant questions (住民票: だれの分, 様式, 何通), and the hand-off card with a
tracked link (`/go/<token>`); for counter procedures, where / when / what to bring.

Pure apart from two read-only look-ups injected at construction (the catalog and the start codes
of QR posters); the little state of the variant questions lives in the session under
`variants.SESSION_KEY`, so 「やめる」「最初から」 in the core clear it like any other state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import InterfaceError, OperationalError

from bot.catalog.index import Catalog
from bot.catalog.schema import ProcedureRecord
from bot.conversation.core import Skills, TurnContext, TurnResult
from bot.conversation.incoming import Incoming
from bot.conversation.messages import text
from bot.effects import Analytics
from bot.handoff import variants as V
from bot.handoff.cards import HANDOFF_CHANNELS, counter_card, handoff_card
from bot.handoff.links import LinkIssuer, is_safe_target
from bot.logging_setup import user_hash
from bot.nlu.result import NluResult
from bot.qr.codes import StartTarget, find_code
from bot.queue import TransientError
from bot.routing.cards import messages_for, procedure_card
from bot.routing.router import route

if TYPE_CHECKING:
    from bot.services import Services

NOT_FOUND = "申し訳ありません。その手続きは見つかりませんでした。もう一度、やりたいことを文章で送ってください。"
UNKNOWN_CODE = ("このQRコードの案内は見つかりませんでした（ポスターが古い可能性があります）。"
                "お手数ですが、やりたいことを文章で送ってください（例：「住民票がほしい」）。")
MAX_MESSAGES = 5


def qr_welcome(facility_name: str, proc: ProcedureRecord) -> str:
    return f"{facility_name}のポスターから、ご利用ありがとうございます。\n「{proc.name}」をご案内します。"


@dataclass
class ProcedureSkill:
    parse: Callable[[str], NluResult]
    catalog: Callable[[], Catalog]
    # Tracked links; without it (unit tests of the router) the card links the target directly.
    links: LinkIssuer | None = None
    user_salt: str = ""  # the same salt as the analytics pseudonyms, so clicks join to turns
    start_codes: Callable[[str], StartTarget | None] | None = None

    @classmethod
    def from_services(cls, services: Services, parse: Callable[[str], NluResult] | None = None,
                      catalog: Callable[[], Catalog] | None = None) -> ProcedureSkill:
        from bot.qr.codes import StartCodes

        s = services.settings
        return cls(parse=parse or services.nlu.parse, catalog=catalog or services.catalog,
                   links=LinkIssuer(s.channel_secret, s.public_base_url), user_salt=s.channel_secret[:8],
                   start_codes=StartCodes(services.db).lookup)

    # ------------------------------------------------------------------ free text
    def find(self, session: dict, incoming: Incoming, ctx: TurnContext) -> TurnResult:
        utterance = incoming.text or ""
        code = find_code(utterance)
        if code and self.start_codes is not None:
            return self._qr_start(session, code, incoming, ctx)
        answered = self._typed_answer(session, utterance, incoming, ctx)
        if answered is not None:
            return answered
        session = {k: v for k, v in session.items() if k != V.SESSION_KEY}  # a new question drops old ones
        nlu = self.parse(utterance)
        decision = route(nlu, self.catalog(), utterance)
        effects: list = []
        if decision.kind == "procedure" and decision.procedure is not None:
            proc = decision.procedure
            effects.append(Analytics("procedure_found", proc.id,
                                     {"confidence": round(decision.confidence, 3), "backend": nlu.backend}))
            then = _then_for(proc)
            if then and V.variants_of(proc):
                # Ask the first question together with the card: one tap less for the resident.
                flow = self._flow(session, proc, then, incoming, ctx, origin=None)
                return TurnResult(flow.session, [procedure_card(proc), *flow.messages][:MAX_MESSAGES],
                                  effects + flow.effects)
        elif decision.kind == "candidates":
            effects.append(Analytics("procedure_candidates", None,
                                     {"candidates": [c.id for c in decision.candidates[:3]]}))
        else:
            effects.append(Analytics("no_procedure", None, {"act": decision.act or ""}))
        return TurnResult(session, messages_for(decision), effects)

    def _typed_answer(self, session: dict, typed: str, incoming: Incoming, ctx: TurnContext) -> TurnResult | None:
        """A variant question is open and the resident typed one of its choices."""
        state = session.get(V.SESSION_KEY)
        if not isinstance(state, dict):
            return None
        proc = self.catalog().get(state.get("proc", ""))
        nxt = V.next_variant(proc, state.get("answers") or {}) if proc else None
        if proc is None or nxt is None:
            return None
        choice = V.match_choice(nxt[1], typed)
        if choice is None:
            return None
        return self._answer(session, proc, nxt[1].id, choice, state.get("then", "handoff"), incoming, ctx)

    # ------------------------------------------------------------------ QR start codes
    def _lookup(self, code: str) -> StartTarget | None:
        assert self.start_codes is not None
        try:
            return self.start_codes(code)
        except (OperationalError, InterfaceError) as exc:
            raise TransientError(f"database unavailable: {type(exc).__name__}") from exc

    def _qr_start(self, session: dict, code: str, incoming: Incoming, ctx: TurnContext) -> TurnResult:
        target = self._lookup(code)
        proc = self.catalog().get(target.procedure_id) if target else None
        if target is None or proc is None:
            return TurnResult(session, [text(UNKNOWN_CODE)], [Analytics("qr_unknown", None, {"code": code})])
        scanned = Analytics("qr_scanned", proc.id, {"facility": target.facility_code, "code": target.code,
                                                    "channel": proc.channel})
        welcome = text(qr_welcome(target.facility_name, proc))
        session = {k: v for k, v in session.items() if k not in (V.SESSION_KEY, "resume_offer")}
        origin = {"source": "qr", "facility": target.facility_code}
        if proc.channel == "chat":
            start = ctx.skills.postbacks.get("start_form")
            if start is not None:
                res = start(session, {"action": "start_form", "proc": proc.id}, incoming, ctx)
                return TurnResult(res.session, [welcome, *res.messages][:MAX_MESSAGES], [scanned, *res.effects],
                                  formsave=res.formsave)
            return TurnResult(session, [welcome, procedure_card(proc)], [scanned])
        flow = self._flow(session, proc, _then_for(proc) or "handoff", incoming, ctx, origin=origin)
        return TurnResult(flow.session, [welcome, *flow.messages][:MAX_MESSAGES], [scanned, *flow.effects])

    # ------------------------------------------------------------------ postbacks
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
        then = "counter" if proc.channel == "counter" else "handoff"
        return self._flow(session, proc, then, incoming, ctx, origin=None)

    def counter(self, session: dict, data: dict, incoming: Incoming, ctx: TurnContext) -> TurnResult:
        proc = self._procedure(data)
        if proc is None:
            return TurnResult(session, [text(NOT_FOUND)])
        return self._flow(session, proc, "counter", incoming, ctx, origin=None)

    def variant(self, session: dict, data: dict, incoming: Incoming, ctx: TurnContext) -> TurnResult:
        """A quick reply to a variant question: `action=variant&proc=&v=&c=&then=`."""
        proc = self._procedure(data)
        if proc is None:
            return TurnResult(session, [text(NOT_FOUND)])
        chosen = next((v for v in V.variants_of(proc) if v.id == data.get("v")), None)
        try:
            index = int(data.get("c", ""))
        except ValueError:
            index = -1
        then = data.get("then") if data.get("then") in ("handoff", "counter") else (_then_for(proc) or "handoff")
        if chosen is None or not 0 <= index < len(chosen.choices):
            return self._flow(session, proc, then, incoming, ctx, origin=None)  # re-ask what is open
        return self._answer(session, proc, chosen.id, chosen.choices[index], then, incoming, ctx)

    # ------------------------------------------------------------------ the flow
    def _answer(self, session: dict, proc: ProcedureRecord, variant_id: str, choice: str, then: str,
                incoming: Incoming, ctx: TurnContext) -> TurnResult:
        state = _state_for(session, proc, then, None)
        state["answers"] = {**state.get("answers", {}), variant_id: choice}
        return self._flow({**session, V.SESSION_KEY: state}, proc, then, incoming, ctx, origin=None)

    def _flow(self, session: dict, proc: ProcedureRecord, then: str, incoming: Incoming, ctx: TurnContext,
              origin: dict | None) -> TurnResult:
        """Ask the next open variant question, or show the final card."""
        state = _state_for(session, proc, then, origin)
        answers: dict[str, str] = state.get("answers") or {}
        nxt = V.next_variant(proc, answers)
        if nxt is not None:
            index, variant = nxt
            message = V.question_message(proc, index, variant, then, first=not answers)
            return TurnResult({**session, V.SESSION_KEY: state}, [message])
        rest = {k: v for k, v in session.items() if k != V.SESSION_KEY}
        shown = V.answered(proc, answers)
        props = {"source": state.get("source", "chat"), "facility": state.get("facility")}
        if answers:
            props["answers"] = answers
        if then == "counter" or (proc.channel not in HANDOFF_CHANNELS and not _target(proc)):
            return TurnResult(rest, [counter_card(proc, shown, answers)], [Analytics("counter_guidance", proc.id, props)])
        link, token = self._link(proc, incoming, ctx, state)
        props.update({"channel": proc.channel, "token": token})
        return TurnResult(rest, [handoff_card(proc, link, shown, answers)], [Analytics("handoff_shown", proc.id, props)])

    def _link(self, proc: ProcedureRecord, incoming: Incoming, ctx: TurnContext, state: dict) -> tuple[str | None, str | None]:
        target = _target(proc)
        if target is None:
            return None, None
        if self.links is None:
            return target, None
        url, payload = self.links.issue(
            procedure_id=proc.id, channel=proc.channel, target=target,
            user_hash=user_hash(incoming.user_id, self.user_salt), now=ctx.now, event_id=incoming.event_id,
            source=state.get("source", "chat"), facility=state.get("facility"))
        return url, payload.token_id

    def register(self, skills: Skills) -> None:
        skills.find = self.find
        skills.postbacks.update({"pick": self.pick, "handoff": self.handoff, "counter": self.counter,
                                 "variant": self.variant})
        # Until a chat form exists for a procedure, its button leads to the other ways to apply.
        skills.postbacks.setdefault("start_form", self.handoff)


def _then_for(proc: ProcedureRecord) -> str | None:
    if proc.channel in HANDOFF_CHANNELS:
        return "handoff"
    if proc.channel == "counter":
        return "counter"
    return None  # chat: the form asks its own questions


def _target(proc: ProcedureRecord) -> str | None:
    url = (proc.apply or {}).get("url")
    return url if isinstance(url, str) and is_safe_target(url) else None


def _state_for(session: dict, proc: ProcedureRecord, then: str, origin: dict | None) -> dict:
    """The variant state for this procedure (kept when it is the same procedure), as a copy."""
    state = session.get(V.SESSION_KEY)
    if isinstance(state, dict) and state.get("proc") == proc.id:
        state = {**state, "then": then}
        if origin:
            state.update(origin)
        return state
    return {"proc": proc.id, "answers": {}, "then": then, **(origin or {"source": "chat", "facility": None})}
