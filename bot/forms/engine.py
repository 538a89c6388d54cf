"""The chat-form engine: a pure function of (script, state, incoming, now) → (state, messages, effects).

No I/O here. The shell loads the script version the form started with (ScriptRegistry.get), keeps
`state` (a JSON-serialisable dict) in the session, sends `messages` with the reply token, performs
`effects` (SubmitForm → store + receipt number, then completion_messages(); Analytics → store) and
acts on `status`:

  active     the form goes on
  submitted  a SubmitForm effect was emitted this turn (messages is empty: store, then send
             completion_messages(script, state, receipt_no))
  done       the form was already submitted; a repeated 送信 gets a short note and no effect
  cancelled  the resident cancelled (nothing to store)
  off_topic  the input was NOT consumed (state unchanged): answer or route it, then send
             resume_messages(script, state)
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.conversation.incoming import Incoming
from bot.forms import messages as m
from bot.forms.conditions import active_slot_ids
from bot.forms.effects import Analytics, Effect, SubmitForm
from bot.forms.script import Script
from bot.forms.slots import Answer, Ctx, Invalid, Ok, Pending, slot_type
from bot.forms.slots.base import JST
from bot.forms.slots.choice import yes_no_of
from bot.forms.templates import contact_text, render
from bot.forms.textnorm import fold
from bot.nlu.data import proc_id
from bot.nlu.normalize import analyze, reading
from bot.nlu.normalize import fold as kana_fold

STATE_FORMAT = 1
FAILURES_BEFORE_HELP = 3
PICK_PAGE = 10

_BACK = {fold(w) for w in ("戻る", "もどる", "前に戻る", "前へ", "ひとつ前", "一つ前", "back")}
_CANCEL = {fold(w) for w in ("やめる", "やめます", "やめたい", "止める", "キャンセル", "中止", "取り消し", "cancel", "終了")}
_HELP = {fold(w) for w in ("ヘルプ", "help", "使い方", "助けて", "たすけて")}
_SUBMIT = {fold(w) for w in ("送信", "送信する", "送信します", "送る", "申し込む", "申し込みます", "申込む")}
_EDIT = {fold(w) for w in ("修正", "修正する", "修正します", "直す", "なおす", "訂正", "変更")}
_RESUME = {fold(w) for w in ("続ける", "つづける", "続けます", "再開", "続き")}
_KEEP = {fold(w) for w in ("前と同じ", "そのまま", "変更なし")}
_SKIP = {fold(w) for w in ("なし", "無し", "ない", "スキップ", "とばす", "飛ばす", "ありません", "特になし", "とくになし")}
_TO_CONFIRM = {fold(w) for w in ("確認に戻る", "確認画面", "確認")}
_NEXT_PAGE = {fold(w) for w in ("次へ", "つぎへ", "ほかの項目")}

# Failures that say "this was not an answer at all"; others mean the resident tried to answer.
_GENERIC_FAILS = {"no_match", "not_date", "not_number", "format", "empty", "unknown_item", "not_address", "no_number",
                  "no_at", "not_location", "wrong_kind", "not_image"}
_QUESTION = re.compile(
    r"[?？]$|(?:ですか|ますか|でしょうか|のか|かな|の\?)$|教えて|どうすれば|どうやって|どこ(?!か)|いつ|なぜ|どうして|何時|知りたい"
    r"|わかりますか"
)
_GREETING = {fold(w) for w in ("こんにちは", "こんばんは", "おはよう", "おはようございます", "ありがとう", "ありがとうございます",
                                "はじめまして", "よろしく", "よろしくお願いします", "hello", "hi")}
# NLU intents that are compatible with answering a form question.
NEUTRAL_INTENTS = {"affirm", "deny", "inform", "nlu_fallback", "out_of_scope", "none", "unknown", "chitchat_number"}
HINT_CONFIDENCE = 0.6


@dataclass
class StepResult:
    state: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    status: str = "active"


class ScriptMismatchError(ValueError):
    """The script passed in is not the version the form started with."""


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
def start(script: Script, *, now: datetime, instance_id: str) -> StepResult:
    state: dict[str, Any] = {
        "format": STATE_FORMAT,
        "instance_id": instance_id,
        "script_id": script.id,
        "script_version": script.version,
        "script_hash": script.content_hash,
        "procedure_id": script.procedure_id,
        "phase": "asking",
        "current": None,
        "values": {},
        "history": [],
        "failures": {},
        "pending": None,
        "page": 0,
        "scratch": None,
        "started_at": _iso(now),
        "updated_at": _iso(now),
    }
    intro = render(str(script.data.get("intro", "")), script, {})
    intro += "\n\n途中で「戻る」「やめる」「ヘルプ」と送ることもできます。"
    effects: list[Effect] = [Analytics("form_started", _props(state))]
    msgs, status = _advance(script, state, now, [m.text_message(intro)])
    return StepResult(state, m.cap(msgs), effects, status)


def step(script: Script, state: dict[str, Any], incoming: Incoming, *, now: datetime, hint: Any = None) -> StepResult:
    if state.get("script_hash") != script.content_hash:
        raise ScriptMismatchError(
            f"state was started on {state.get('script_id')}@{state.get('script_hash')}, got {script.content_hash}")
    original = state
    state = copy.deepcopy(state)
    state["updated_at"] = _iso(now)
    result = _step(script, state, incoming, now, hint)
    if result.status == "off_topic":
        result.state = copy.deepcopy(original)  # not consumed: nothing changes
        result.messages = []
    result.messages = m.cap(result.messages)
    return result


def resume_messages(script: Script, state: dict[str, Any]) -> list[dict[str, Any]]:
    """After an off-topic answer (or an expired session): offer to go on with the form."""
    inst = state["instance_id"]
    quick = [m.postback_item("続ける", m.encode("resume", inst)), m.postback_item("やめる", m.encode("cancel", inst))]
    return [m.text_message(f"「{script.name}」の入力の途中です。続けますか？", quick)]


def completion_messages(script: Script, state: dict[str, Any], receipt_no: str) -> list[dict[str, Any]]:
    template = str((script.data.get("completion") or {}).get("message", "受け付けました。受付番号：{receipt_no}"))
    text = render(template, script, state.get("values", {}), {"receipt_no": receipt_no})
    return [m.text_message(text)]


def current_question_messages(script: Script, state: dict[str, Any], *, now: datetime) -> list[dict[str, Any]]:
    """What the form is waiting for right now (question, confirmation or field list)."""
    return _reshow(script, copy.deepcopy(state), now, [])


# ---------------------------------------------------------------------------------------------
# turn handling
# ---------------------------------------------------------------------------------------------
def _step(script: Script, state: dict[str, Any], inc: Incoming, now: datetime, hint: Any) -> StepResult:
    action, fields, answer = _decode(script, state, inc)
    phase = state["phase"]

    if phase in ("done", "cancelled"):
        if action in ("submit", "answer_pb", "edit", "cancel_yes") or (action == "submit_text" and phase == "done"):
            note = "この申し込みはすでに送信しました。" if phase == "done" else "この申し込みは取りやめました。"
            return StepResult(state, [m.text_message(note)], [], phase if phase == "done" else "cancelled")
        return StepResult(state, status="off_topic")

    if action == "foreign":
        return StepResult(state, status="off_topic")
    if action == "stale":
        return _result(state, _reshow(script, state, now, ["そのボタンは今は使えません。"]))

    if state.get("pending") == "cancel":
        state["pending"] = None
        decided = yes_no_of(inc.text or "") if action == "text" else None
        if action in ("cancel_yes", "cancel") or decided is True:
            return _cancel(script, state)
        if action in ("cancel_no", "resume") or decided is False:
            return _result(state, _reshow(script, state, now, ["入力を続けます。"]))

    if action == "cancel":
        state["pending"] = "cancel"
        inst = state["instance_id"]
        quick = [m.postback_item("はい、やめる", m.encode("cancel_yes", inst)),
                 m.postback_item("いいえ、続ける", m.encode("cancel_no", inst))]
        return _result(state, [m.text_message("入力をやめますか？\nここまでに入力した内容は保存されません。", quick)])
    if action in ("cancel_yes", "cancel_no"):  # an old button; the question was already answered
        return _result(state, _reshow(script, state, now, []))
    if action == "resume":
        return _result(state, _reshow(script, state, now, []))
    if action == "help":
        return _result(state, _reshow(script, state, now, [_help_text(script, state)]))

    if phase == "confirming":
        return _on_confirming(script, state, action, inc, now, hint)
    if phase == "editing" and state.get("pending") == "pick":
        return _on_pick(script, state, action, fields, inc, now, hint)
    return _on_question(script, state, action, fields, answer, inc, now, hint)


def _on_question(script: Script, state: dict[str, Any], action: str, fields: dict[str, str], answer: Answer | None,
                 inc: Incoming, now: datetime, hint: Any) -> StepResult:
    sid = state["current"]
    slot = script.slot(sid)
    if action == "back":
        return _back(script, state, now)
    if action == "to_confirm" and state["phase"] == "editing":
        return _result(state, _confirm(script, state, []))
    if action in ("submit", "edit", "pick", "page", "to_confirm"):
        return _result(state, _reshow(script, state, now, ["今は質問に答えている途中です。"]))
    if action == "keep" and sid in state["values"]:
        return _accepted(script, state, sid, state["values"][sid], None, now)
    if action == "skip" and not slot.get("required", True):
        return _accepted(script, state, sid, None, None, now)
    if action == "answer_pb" and fields.get("s") != sid:
        return _result(state, _reshow(script, state, now, ["前の質問のボタンです。今の質問にお答えください。"]))
    if answer is None:
        return _result(state, _reshow(script, state, now, []))

    stype = slot_type(str(slot["type"]))
    ctx = Ctx(script, state["values"], now, state.get("scratch"))
    outcome = stype.parse(slot, answer, ctx)
    if isinstance(outcome, Ok):
        return _accepted(script, state, sid, outcome.value, outcome.ack, now)
    if isinstance(outcome, Pending):
        state["scratch"] = outcome.scratch
        return _result(state, _question(script, state, now, [outcome.message] if outcome.message else [], repeat=False))
    assert isinstance(outcome, Invalid)
    if (outcome.reason in _GENERIC_FAILS and not _about_the_question(inc, slot)
            and _looks_off_topic(inc, hint, script.procedure_id)):
        return StepResult(state, status="off_topic")
    return _failed(script, state, sid, outcome, now)


def _on_confirming(script: Script, state: dict[str, Any], action: str, inc: Incoming, now: datetime,
                   hint: Any) -> StepResult:
    if action in ("submit", "submit_text"):
        return _submit(script, state, now)
    if action == "edit":
        state["phase"], state["pending"], state["page"], state["current"] = "editing", "pick", 0, None
        return _result(state, _pick(script, state))
    if action == "back":
        return _back(script, state, now)
    if action == "text" and _looks_off_topic(inc, hint, script.procedure_id):
        return StepResult(state, status="off_topic")
    return _result(state, _confirm(script, state, [m.text_message("「送信」「修正」「やめる」のどれかを押してください。")]))


def _on_pick(script: Script, state: dict[str, Any], action: str, fields: dict[str, str], inc: Incoming,
             now: datetime, hint: Any) -> StepResult:
    fields_list = _summary_slots(script, state)
    target: str | None = None
    if action == "pick":
        target = fields.get("s")
    elif action == "page":
        state["page"] = int(fields.get("p", "0") or 0)
        return _result(state, _pick(script, state))
    elif action in ("to_confirm", "back", "resume"):
        state["phase"], state["pending"] = "confirming", None
        return _result(state, _confirm(script, state, []))
    elif action == "text":
        key = fold(inc.text or "")
        if key in _NEXT_PAGE:
            state["page"] = state.get("page", 0) + 1
            return _result(state, _pick(script, state))
        if key.isdigit() and 1 <= int(key) <= len(fields_list):
            target = fields_list[int(key) - 1]
        else:
            hits = [s for s in fields_list if fold(_label(script.slot(s))) == key]
            target = hits[0] if hits else None
    if target not in fields_list:
        if action == "text" and _looks_off_topic(inc, hint, script.procedure_id):
            return StepResult(state, status="off_topic")
        return _result(state, _pick(script, state, "項目をボタンから選ぶか、番号を送ってください。"))
    state["pending"], state["current"], state["scratch"] = None, target, None
    return _result(state, _question(script, state, now, ["「" + _label(script.slot(str(target))) + "」を修正します。"]))


# ---------------------------------------------------------------------------------------------
# transitions
# ---------------------------------------------------------------------------------------------
def _accepted(script: Script, state: dict[str, Any], sid: str, value: Any, ack: str | None,
              now: datetime) -> StepResult:
    state["values"][sid] = value
    state["failures"].pop(sid, None)
    state["scratch"] = None
    if state["phase"] == "asking":
        state["history"] = [h for h in state["history"] if h != sid] + [sid]
    effects: list[Effect] = [Analytics("question_answered", {**_props(state), "slot": sid})]
    msgs, status = _advance(script, state, now, [m.text_message(ack)] if ack else [])
    return StepResult(state, msgs, effects, status)


def _failed(script: Script, state: dict[str, Any], sid: str, outcome: Invalid, now: datetime) -> StepResult:
    n = state["failures"].get(sid, 0) + 1
    state["failures"][sid] = n
    slot = script.slot(sid)
    example = outcome.example or slot_type(str(slot["type"])).example(slot)
    text = outcome.message + (f"\n例：{example}" if example else "")
    if n % FAILURES_BEFORE_HELP == 0:
        text += "\n\n" + _help_text(script, state)
    effects: list[Effect] = [Analytics("validation_failed", {**_props(state), "slot": sid, "reason": outcome.reason,
                                                              "failures": n})]
    msg = m.text_message(text, _question_quick(script, state, now))
    return StepResult(state, [msg], effects, "active")


def _advance(script: Script, state: dict[str, Any], now: datetime,
             prefix: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    values = state["values"]
    active = active_slot_ids(script, values)
    nxt: str | None = None
    if state["phase"] == "asking":
        order = script.slot_ids
        after = order[order.index(state["current"]) + 1:] if state["current"] in order else order
        nxt = next((s for s in after if s in active), None)
    if nxt is None:
        nxt = next((s for s in active if s not in values), None)
    if nxt is None:
        state["phase"], state["current"], state["pending"] = "confirming", None, None
        return _confirm(script, state, prefix), "active"
    state["current"], state["scratch"] = nxt, None
    return [*prefix, *_question(script, state, now, [])], "active"


def _back(script: Script, state: dict[str, Any], now: datetime) -> StepResult:
    if state["phase"] == "editing":
        state["phase"], state["current"], state["pending"] = "confirming", None, None
        return _result(state, _confirm(script, state, []))
    active = active_slot_ids(script, state["values"])
    history = [h for h in state["history"] if h in active and h != state["current"]]
    if state["current"] in active and state["current"] in script.slot_ids:
        # only slots before the current one (戻る never jumps forward)
        pos = script.slot_ids.index(state["current"])
        history = [h for h in history if script.slot_ids.index(h) < pos]
    if not history:
        return _result(state, _question(script, state, now, ["これが最初の質問です。"]))
    target = history[-1]
    state["history"] = history[:-1]
    state["phase"], state["current"], state["scratch"], state["pending"] = "asking", target, None, None
    return _result(state, _question(script, state, now, ["ひとつ前の質問に戻ります。"]))


def _submit(script: Script, state: dict[str, Any], now: datetime) -> StepResult:
    active = active_slot_ids(script, state["values"])
    answers = {s: state["values"][s] for s in active if state["values"].get(s) is not None}
    personal = tuple(s for s in answers if script.slot(s).get("personal"))
    submission = script.data.get("submission") or {}
    effect = SubmitForm(
        instance_id=state["instance_id"], procedure_id=script.procedure_id, script_id=script.id,
        script_version=script.version, answers=answers, personal_fields=personal, script_hash=script.content_hash,
        notify=dict(submission.get("notify") or {}), summary=tuple(_rows(script, state)),
    )
    state["phase"], state["current"], state["pending"] = "done", None, None
    started = _parse_iso(state.get("started_at"))
    duration = int((now - started).total_seconds()) if started and now.tzinfo else None
    done = Analytics("form_completed", {**_props(state), "answered": len(answers), "duration_s": duration})
    return StepResult(state, [], [effect, done], "submitted")


def _cancel(script: Script, state: dict[str, Any]) -> StepResult:
    at = state.get("current")
    state["phase"], state["current"], state["pending"], state["scratch"] = "cancelled", None, None, None
    state["values"], state["history"] = {}, []  # nothing kept: the resident asked us to drop it
    msg = m.text_message("入力をやめました。入力した内容は保存していません。\nまた必要なときは、いつでも話しかけてください。")
    return StepResult(state, [msg], [Analytics("form_cancelled", {**_props(state), "slot": at})], "cancelled")


# ---------------------------------------------------------------------------------------------
# messages
# ---------------------------------------------------------------------------------------------
def _reshow(script: Script, state: dict[str, Any], now: datetime, notes: list[str]) -> list[dict[str, Any]]:
    if state["phase"] == "confirming":
        return _confirm(script, state, [m.text_message(n) for n in notes])
    if state["phase"] == "editing" and state.get("pending") == "pick":
        return [*(m.text_message(n) for n in notes), *_pick(script, state)]
    return _question(script, state, now, notes)


def _question(script: Script, state: dict[str, Any], now: datetime, notes: list[str],
              repeat: bool = True) -> list[dict[str, Any]]:
    sid = state["current"]
    slot = script.slot(sid)
    msgs = [m.text_message(n) for n in notes[:-1]]
    active = active_slot_ids(script, state["values"])
    lines = []
    if notes:
        lines.append(notes[-1])
    if repeat:
        progress = f"【{active.index(sid) + 1}/{len(active)}】" if sid in active else ""
        lines.append(progress + render(str(slot.get("prompt", "")), script, state["values"]))
        if sid in state["values"]:
            shown = _display(script, sid, state["values"][sid])
            lines.append(f"（前の回答：{shown}）")
        if not slot.get("required", True):
            lines.append("（ない場合は「なし」を押してください）")
    msgs.append(m.text_message("\n".join(lines), _question_quick(script, state, now)))
    return msgs


def _question_quick(script: Script, state: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    sid = state["current"]
    slot = script.slot(sid)
    inst = state["instance_id"]
    ctx = Ctx(script, state["values"], now, state.get("scratch"))
    items = [_quick_action(a, inst, sid) for a in slot_type(str(slot["type"])).quick_actions(slot, ctx)]
    controls = []
    if sid in state["values"] and state.get("scratch") is None:
        controls.append(m.postback_item("前と同じ", m.encode("keep", inst)))
    if not slot.get("required", True):
        controls.append(m.postback_item("なし", m.encode("skip", inst)))
    if state["phase"] == "editing":
        controls.append(m.postback_item("確認に戻る", m.encode("to_confirm", inst)))
    elif any(h != sid for h in state["history"]):
        controls.append(m.postback_item("戻る", m.encode("back", inst)))
    controls += [m.postback_item("ヘルプ", m.encode("help", inst)), m.postback_item("やめる", m.encode("cancel", inst))]
    room = m.MAX_QUICK - len(items)
    return items + controls[:max(room, 0)]


def _quick_action(act: dict[str, Any], inst: str, sid: str) -> dict[str, Any]:
    kind = act["kind"]
    label = m.clip(str(act["label"]), m.MAX_LABEL)
    if kind == "choice":
        return m.postback_item(label, m.encode("a", inst, s=sid, c=act["index"]), str(act["label"]).lstrip("✓"))
    if kind == "value":
        return m.postback_item(label, m.encode("a", inst, s=sid, v=act["value"]))
    if kind == "done":
        return m.postback_item(label, m.encode("a", inst, s=sid, d=1))
    if kind == "datetimepicker":
        action = {"type": "datetimepicker", "label": label, "data": m.encode("a", inst, s=sid), "mode": "date"}
        action.update({k: act[k] for k in ("initial", "min", "max") if act.get(k)})
        return {"type": "action", "action": action}
    return {"type": "action", "action": {"type": kind, "label": label}}  # location / camera / cameraRoll


def _confirm(script: Script, state: dict[str, Any], prefix: list[dict[str, Any]]) -> list[dict[str, Any]]:
    conf = script.data.get("confirmation") or {}
    inst = state["instance_id"]
    title = render(str(conf.get("title", "入力内容の確認")), script, state["values"])
    note = render(str(conf.get("note", "")), script, state["values"])
    note = (note + "\n\n" if note else "") + "この内容でよければ「送信」を押してください。"
    buttons = [("送信", m.encode("submit", inst), "primary"), ("修正", m.encode("edit", inst), "secondary"),
               ("やめる", m.encode("cancel", inst), "secondary")]
    quick = [m.postback_item(lbl, data) for lbl, data, _ in buttons] + [m.postback_item("戻る", m.encode("back", inst))]
    return [*prefix, m.flex_summary(title, _rows(script, state), note, buttons, quick)]


def _pick(script: Script, state: dict[str, Any], note: str | None = None) -> list[dict[str, Any]]:
    inst = state["instance_id"]
    slots = _summary_slots(script, state)
    pages = max(1, -(-len(slots) // PICK_PAGE))
    page = state.get("page", 0) % pages
    state["page"] = page
    lines = [note] if note else []
    lines.append("修正する項目を選んでください。")
    lines += [f"{i + 1}. {_label(script.slot(s))}：{m.clip(_display(script, s, state['values'].get(s)), 40)}"
              for i, s in enumerate(slots)]
    quick = [m.postback_item(_label(script.slot(s)), m.encode("pick", inst, s=s))
             for s in slots[page * PICK_PAGE:(page + 1) * PICK_PAGE]]
    if pages > 1:
        quick.append(m.postback_item("ほかの項目", m.encode("page", inst, p=(page + 1) % pages)))
    quick.append(m.postback_item("確認に戻る", m.encode("to_confirm", inst)))
    return [m.text_message("\n".join(lines), quick)]


def _help_text(script: Script, state: dict[str, Any]) -> str:
    parts = []
    sid = state.get("current")
    if sid and state["phase"] in ("asking", "editing"):
        slot = script.slot(sid)
        parts.append("【ヘルプ】" + render(str(slot.get("help", "")), script, state["values"]))
    elif state["phase"] == "confirming":
        parts.append("【ヘルプ】内容がよければ「送信」、直したいところがあれば「修正」を押してください。")
    parts.append(f"わからないことは、{contact_text(script)}にお問い合わせください。")
    parts.append("「やめる」で入力をやめることもできます。")
    return "\n".join(parts)


def _summary_slots(script: Script, state: dict[str, Any]) -> list[str]:
    active = active_slot_ids(script, state["values"])
    return [s for s in active if script.slot(s).get("summary", True) is not False]


def _rows(script: Script, state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(_label(script.slot(s)), _display(script, s, state["values"].get(s)) or "（なし）")
            for s in _summary_slots(script, state)]


def _label(slot: dict[str, Any]) -> str:
    return str(slot.get("label") or slot.get("id"))


def _display(script: Script, sid: str, value: Any) -> str:
    if value is None:
        return "（なし）"
    slot = script.slot(sid)
    return slot_type(str(slot["type"])).display(slot, value)


# ---------------------------------------------------------------------------------------------
# input decoding
# ---------------------------------------------------------------------------------------------
def _decode(script: Script, state: dict[str, Any], inc: Incoming) -> tuple[str, dict[str, str], Answer | None]:
    """(action, postback fields, answer) for one incoming event."""
    if inc.kind == "postback":
        if not m.is_form_postback(inc.postback_data):
            return "foreign", {}, None
        fields = m.decode(inc.postback_data or "")
        if fields.get("i") != state["instance_id"][:8]:
            return "stale", fields, None
        act = fields.get("f", "")
        if act == "a":
            if inc.postback_params:
                return "answer_pb", fields, Answer("date", params=dict(inc.postback_params))
            if "c" in fields and fields["c"].isdigit():
                return "answer_pb", fields, Answer("choice", choice=int(fields["c"]))
            if fields.get("d"):
                return "answer_pb", fields, Answer("done", done=True)
            return "answer_pb", fields, Answer("text", text=fields.get("v", ""))
        known = {"back", "cancel", "cancel_yes", "cancel_no", "help", "submit", "edit", "pick", "page", "keep",
                 "skip", "resume", "to_confirm"}
        return (act if act in known else "stale"), fields, None
    if inc.kind == "text":
        text = inc.text or ""
        key = fold(text)
        phase = state["phase"]
        if key in _BACK:
            return "back", {}, None
        if key in _CANCEL:
            return "cancel", {}, None
        if key in _HELP:
            return "help", {}, None
        if key in _RESUME:
            return "resume", {}, None
        if phase in ("confirming", "done"):
            if key in _SUBMIT:
                return "submit_text", {}, None
            if key in _EDIT and phase == "confirming":
                return "edit", {}, None
        if phase == "editing" and key in _TO_CONFIRM:
            return "to_confirm", {}, None
        if phase in ("asking", "editing") and state.get("current"):
            slot = script.slot(state["current"])
            if key in _KEEP:
                return "keep", {}, None
            if key in _SKIP and not slot.get("required", True):
                return "skip", {}, None
        return "text", {}, Answer("text", text=text)
    if inc.kind == "location" and inc.location is not None:
        return "media", {}, Answer("location", location=inc.location)
    if inc.kind == "image":
        return "media", {}, Answer("image", content_ref=inc.content_ref, message_id=inc.message_id)
    if inc.kind in ("follow", "unfollow", "other"):
        return "foreign", {}, None
    return "media", {}, Answer(inc.kind)


def _about_the_question(inc: Incoming, slot: dict[str, Any]) -> bool:
    """A wrong answer that names the question's own subject (「でんわ番号なし」, 「電話はありません」 to
    電話番号) is about the question, whatever the NLU thinks (it reads でんわ as "talk to a person"):
    re-ask with an example, do not route it elsewhere."""
    if inc.kind != "text" or not inc.text:
        return False
    label = re.sub(r"[（(].*?[)）]", "", _label(slot))
    said = reading(inc.text)
    words = {kana_fold(t[3] or t[0]) for t in analyze(label, "A") if t[2]}  # 電話番号 -> 電話, 番号
    return any(len(w) >= 3 and w in said for w in words)  # not だす, もの: too common


def _looks_off_topic(inc: Incoming, hint: Any, procedure_id: str | None = None) -> bool:
    """An unconsumable input that reads like something else: a question, a greeting, another request."""
    if inc.kind != "text":
        return False
    name, confidence = _hint(hint)
    # A hint naming this very form's procedure is about the form (e.g. a wrong answer repeating its words).
    if (name and confidence >= HINT_CONFIDENCE and name.lower() not in NEUTRAL_INTENTS and not name.startswith("form")
            and (procedure_id is None or proc_id(name) != procedure_id)):
        return True
    text = (inc.text or "").strip()
    if fold(text) in _GREETING:
        return True
    return bool(_QUESTION.search(text))


def _hint(hint: Any) -> tuple[str | None, float]:
    """Accepts an NluResult, {"intent": name|{name, confidence}, "confidence": x} or (name, confidence),
    or a function returning one (the NLU then runs only for an answer that did not fit)."""
    if callable(hint):
        hint = hint()
    if hint is None:
        return None, 0.0
    if isinstance(hint, tuple) and len(hint) == 2:
        return str(hint[0]), float(hint[1])
    if isinstance(hint, dict):
        intent = hint.get("intent")
        if isinstance(intent, dict):
            return intent.get("name"), float(intent.get("confidence", 0.0))
        return (str(intent) if intent else None), float(hint.get("confidence", 0.0))
    intent = getattr(hint, "intent", None)
    if intent is not None:
        return getattr(intent, "name", None), float(getattr(intent, "confidence", 0.0))
    return None, 0.0


# ---------------------------------------------------------------------------------------------
def _result(state: dict[str, Any], msgs: list[dict[str, Any]], status: str = "active") -> StepResult:
    return StepResult(state, msgs, [], status)


def _props(state: dict[str, Any]) -> dict[str, Any]:
    return {"script_id": state["script_id"], "script_version": state["script_version"],
            "procedure_id": state["procedure_id"], "instance_id": state["instance_id"]}


def _iso(now: datetime) -> str:
    return (now if now.tzinfo else now.replace(tzinfo=JST)).isoformat()


def _parse_iso(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
