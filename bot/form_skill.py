"""Chat forms in the conversation: starts a dialog script, steps it, stores the application.

The engine (bot/forms/engine.py) is pure; this adapter keeps its state in the session, saves a
resumable copy for 24 hours, turns its SubmitForm effect into an exactly-once SQL insert, and
answers off-topic questions in the middle of a form before offering to resume.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.conversation import texts
from bot.conversation.core import Skills, TurnContext, TurnResult
from bot.conversation.incoming import Incoming
from bot.conversation.messages import text
from bot.effects import Analytics, EffectRunner
from bot.faults import crashpoint
from bot.forms import engine
from bot.forms.effects import Analytics as FormAnalytics
from bot.forms.effects import SubmitForm
from bot.forms.messages import is_form_postback
from bot.forms.registry import ScriptRegistry
from bot.forms.script import Script
from bot.nlu.result import NluResult
from bot.submissions.store import LogNotifier, SectionNotifier, SubmissionStore

ACTIVE_PHASES = ("asking", "confirming", "editing")


@dataclass(frozen=True)
class StoreSubmission:
    """Effect: store the application, then answer with the receipt number."""

    submit: SubmitForm
    script: Script
    state: dict


def _effects(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, FormAnalytics):
            out.append(Analytics(item.name, item.props.get("procedure_id"), dict(item.props)))
        elif not isinstance(item, SubmitForm):
            out.append(item)
    return out


@dataclass
class FormSkill:
    registry: ScriptRegistry
    parse: Callable[[str], NluResult]

    # -- FormSkill protocol used by the core ------------------------------------------------
    def active(self, session: dict) -> bool:
        state = session.get("form")
        return bool(state) and state.get("phase") in ACTIVE_PHASES

    def wants(self, session: dict, data: str | None) -> bool:
        # Every form button comes here, also one whose form is gone (expired, or state lost):
        # step() then apologises and asks to start again instead of guessing.
        return is_form_postback(data)

    def step(self, session: dict, incoming: Incoming, ctx: TurnContext) -> TurnResult:
        session = dict(session)
        state = session.get("form") or session.pop("resume_offer", None)
        if not state:
            return TurnResult(session, [text(texts.STATE_LOST)], formsave=False)
        script = self.registry.get(state["script_id"], state["script_hash"])
        if script is None:
            session.pop("form", None)
            return TurnResult(session, [text(texts.STATE_LOST)], formsave=False)
        words = incoming.text if incoming.kind == "text" else None
        # Lazy: most answers fit the question, and only one that does not needs the NLU's opinion.
        hint = (lambda: self.parse(words)) if words else None
        res = engine.step(script, state, incoming, now=ctx.now, hint=hint)
        effects = _effects(res.effects)
        if res.status == "off_topic":
            return self._off_topic(session, script, state, incoming, ctx)
        if res.status == "cancelled":
            session.pop("form", None)
            return TurnResult(session, res.messages, effects, formsave=False)
        session["form"] = res.state
        if res.status == "submitted":
            submit = next(e for e in res.effects if isinstance(e, SubmitForm))
            effects.append(StoreSubmission(submit, script, res.state))
            return TurnResult(session, res.messages, effects, formsave=False)
        formsave = res.state if res.status == "active" else None
        return TurnResult(session, res.messages, effects, formsave=formsave)

    def _off_topic(self, session: dict, script: Script, state: dict, incoming: Incoming,
                   ctx: TurnContext) -> TurnResult:
        # Routing reads only chat-sized texts (an over-long one never reaches it outside a form either).
        routable = incoming.kind == "text" and len(incoming.text or "") <= ctx.max_text_chars
        answer = ctx.skills.find(session, incoming, ctx) if (ctx.skills.find and routable) else None
        messages = (answer.messages[:3] if answer else []) + engine.resume_messages(script, state)
        return TurnResult(session, messages[:5], answer.effects if answer else [])

    def offer_resume(self, session: dict, formsave: dict, ctx: TurnContext) -> TurnResult | None:
        """The session expired but a form was left unfinished less than 24 hours ago."""
        script = self.registry.get(formsave.get("script_id", ""), formsave.get("script_hash", ""))
        if script is None:
            return None
        return TurnResult({"resume_offer": formsave}, engine.resume_messages(script, formsave))

    # -- entry: the card's "このLINEで申し込む" button ----------------------------------------
    def start(self, session: dict, data: dict, incoming: Incoming, ctx: TurnContext,
              fallback: Callable[..., TurnResult] | None = None) -> TurnResult:
        script = self.registry.current(data.get("proc", ""))
        if script is None:
            if fallback is not None:
                return fallback(session, data, incoming, ctx)
            return TurnResult(session, [text(texts.UNSUPPORTED)])
        res = engine.start(script, now=ctx.now, instance_id=uuid.uuid4().hex)
        session = {k: v for k, v in session.items() if k != "resume_offer"}
        session["form"] = res.state
        return TurnResult(session, res.messages, _effects(res.effects), formsave=res.state)

    def register(self, skills: Skills) -> None:
        fallback = skills.postbacks.get("start_form")
        skills.forms = self
        skills.postbacks["start_form"] = lambda s, d, i, c: self.start(s, d, i, c, fallback)


def register_submission_effects(effects: EffectRunner, store: SubmissionStore,
                                notifier: SectionNotifier | None = None) -> SectionNotifier:
    """Store applications in the turn; the returned notifier tells the section (run it in a worker)."""
    notifier = notifier or SectionNotifier(store, {"log": LogNotifier()})

    def handle(effect: StoreSubmission, *, user_id: str, event_id: str) -> list[dict]:
        stored = store.store(effect.submit, user_id=user_id)
        crashpoint("after_submission_insert")
        if stored.created:
            notifier.wake()
        return engine.completion_messages(effect.script, effect.state, stored.receipt_no)

    effects.register(StoreSubmission, handle)
