"""Choice, multi-choice, yes/no and consent: answered by tapping a quick reply or typing a label."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from bot.forms.slots.base import (
    Answer,
    Ctx,
    Invalid,
    Ok,
    Outcome,
    Pending,
    QuickAction,
    SlotType,
    SpecProblem,
)
from bot.forms.textnorm import fold, nfkc

MAX_QUICK_REPLIES = 13
MAX_LABEL = 20


def choices(slot: dict[str, Any]) -> list[dict[str, Any]]:
    """Choices as dicts {value, label, ...}; a plain string is both value and label."""
    out = []
    for c in slot.get("choices") or []:
        if isinstance(c, dict):
            label = str(c.get("label", c.get("value", "")))
            out.append({**c, "value": str(c.get("value", label)), "label": label})
        else:
            out.append({"value": str(c), "label": str(c)})
    return out


def match_choice(slot: dict[str, Any], text: str) -> int | None:
    """Index of the choice a typed text means: exact label/value, 1-based number, or a unique partial."""
    opts = choices(slot)
    key = fold(text)
    if not key:
        return None
    for i, c in enumerate(opts):
        if key in (fold(c["label"]), fold(c["value"])) or key in [fold(s) for s in c.get("synonyms", [])]:
            return i
    if re.fullmatch(r"\d{1,2}", key) and 1 <= int(key) <= len(opts):
        return int(key) - 1
    if len(key) >= 2:
        hits = [i for i, c in enumerate(opts) if key in fold(c["label"]) or fold(c["label"]) in key]
        if len(hits) == 1:
            return hits[0]
    return None


def _choice_problems(slot: dict[str, Any], max_count: int) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    opts = choices(slot)
    if not opts:
        return [("choices", "選択肢 choices がありません。", "choices に2つ以上の選択肢を書いてください。")]
    if len(opts) > max_count:
        problems.append(("choices", f"選択肢が{len(opts)}個あります（最大{max_count}個）。",
                         "選択肢を減らすか、質問を2つに分けてください。"))
    seen: set[str] = set()
    for i, c in enumerate(opts):
        if len(c["label"]) > MAX_LABEL:
            problems.append((f"choices[{i}]", f"選択肢「{c['label']}」が{len(c['label'])}文字です（LINEのボタンは20文字まで）。",
                             "label を20文字以内に短くしてください。"))
        if c["value"] in seen:
            problems.append((f"choices[{i}]", f"選択肢の値「{c['value']}」が重複しています。", "value を別の値にしてください。"))
        seen.add(c["value"])
    return problems


class ChoiceType(SlotType):
    name = "choice"
    accepts = frozenset({"text", "choice"})
    options: ClassVar[frozenset[str]] = frozenset({"choices"})

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        opts = choices(slot)
        idx = answer.choice if answer.kind == "choice" else None
        if idx is None and answer.kind == "text" and answer.text:
            idx = match_choice(slot, answer.text)
        if idx is None or not 0 <= idx < len(opts):
            return Invalid("no_match", "選択肢の中から選んでください。下のボタンを押すと選べます。")
        return Ok(opts[idx]["value"])

    def display(self, slot: dict[str, Any], value: Any) -> str:
        for c in choices(slot):
            if c["value"] == value:
                return c["label"]
        return "" if value is None else str(value)

    def quick_actions(self, slot: dict[str, Any], ctx: Ctx) -> list[QuickAction]:
        return [{"kind": "choice", "label": c["label"], "index": i} for i, c in enumerate(choices(slot))]

    def example(self, slot: dict[str, Any]) -> str:
        return str(slot.get("example") or "、".join(c["label"] for c in choices(slot)[:3]))

    def check(self, slot: dict[str, Any], script: Any) -> list[SpecProblem]:
        return _choice_problems(slot, MAX_QUICK_REPLIES)


class MultiChoiceType(ChoiceType):
    """Several choices: tap them one by one then 決定, or type them all at once (「A、B」)."""

    name = "multi_choice"
    accepts = frozenset({"text", "choice", "done"})
    options: ClassVar[frozenset[str]] = frozenset({"choices", "min_select", "max_select"})
    max_choices = MAX_QUICK_REPLIES - 2  # room for 決定 and 戻る

    def _finish(self, slot: dict[str, Any], selected: list[int]) -> Outcome:
        opts = choices(slot)
        lo = int(slot.get("min_select", 1))
        hi = int(slot.get("max_select", len(opts)))
        if len(selected) < lo:
            return Invalid("too_few", f"{lo}つ以上選んでください。")
        if len(selected) > hi:
            return Invalid("too_many", f"選べるのは{hi}つまでです。")
        return Ok([opts[i]["value"] for i in sorted(selected)])

    def _toggle(self, slot: dict[str, Any], selected: list[int], idx: int) -> list[int]:
        opts = choices(slot)
        if idx in selected:
            return [i for i in selected if i != idx]
        if opts[idx].get("exclusive"):
            return [idx]
        return [i for i in selected if not opts[i].get("exclusive")] + [idx]

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        opts = choices(slot)
        selected: list[int] = list(ctx.scratch or [])
        if answer.done or (answer.kind == "text" and fold(answer.text or "") in ("決定", "ケッテイ", "おわり", "以上")):
            return self._finish(slot, selected)
        if answer.kind == "choice" and answer.choice is not None and 0 <= answer.choice < len(opts):
            selected = self._toggle(slot, selected, answer.choice)
            names = "、".join(opts[i]["label"] for i in sorted(selected)) or "（なし）"
            return Pending(selected, f"選択中：{names}\nほかにもあれば選んでください。選び終わったら「決定」を押してください。")
        if answer.kind == "text" and answer.text:
            parts = [p for p in re.split(r"[、,・/\s]+|と(?=\S)", nfkc(answer.text)) if p]
            picked: list[int] = []
            for part in parts:
                idx = match_choice(slot, part)
                if idx is None:
                    whole = match_choice(slot, answer.text)  # a label that itself contains と or ・
                    if whole is not None and fold(opts[whole]["label"]) == fold(answer.text):
                        return self._finish(slot, [whole])
                    return Invalid("no_match", f"「{part}」は選択肢にありません。選択肢の中から選んでください。")
                picked = self._toggle(slot, picked, idx) if idx not in picked else picked
            return self._finish(slot, picked)
        return Invalid("no_match", "選択肢の中から選んでください。")

    def display(self, slot: dict[str, Any], value: Any) -> str:
        if not value:
            return "（なし）"
        labels = {c["value"]: c["label"] for c in choices(slot)}
        return "、".join(labels.get(v, str(v)) for v in value)

    def quick_actions(self, slot: dict[str, Any], ctx: Ctx) -> list[QuickAction]:
        selected = set(ctx.scratch or [])
        acts: list[QuickAction] = []
        for i, c in enumerate(choices(slot)):
            mark = "✓" if i in selected else ""
            acts.append({"kind": "choice", "label": (mark + c["label"])[:MAX_LABEL], "index": i})
        acts.append({"kind": "done", "label": "決定"})
        return acts

    def check(self, slot: dict[str, Any], script: Any) -> list[SpecProblem]:
        problems = _choice_problems(slot, self.max_choices)
        n = len(choices(slot))
        lo, hi = slot.get("min_select", 1), slot.get("max_select", n)
        if isinstance(lo, int) and isinstance(hi, int) and (lo > hi or hi > n):
            problems.append(("max_select", f"選べる数の範囲（{lo}〜{hi}）が選択肢の数（{n}）と合いません。",
                             "min_select ≤ max_select ≤ 選択肢の数 にしてください。"))
        return problems


YES_WORDS = {"はい", "ハイ", "うん", "ええ", "yes", "y", "ok", "okay", "オーケー", "そうです", "はいそうです", "お願いします",
             "おねがいします", "あります", "ある", "する", "します", "いる", "います", "必要", "必要です"}
NO_WORDS = {"いいえ", "いや", "no", "n", "ううん", "いえ", "ちがう", "違う", "違います", "ちがいます", "ない", "ないです",
            "ありません", "なし", "しない", "しません", "いない", "いません", "不要", "不要です", "結構です", "けっこうです"}
_YES = {fold(w) for w in YES_WORDS}
_NO = {fold(w) for w in NO_WORDS}


def yes_no_of(text: str) -> bool | None:
    key = fold(text)
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None


class YesNoType(SlotType):
    name = "yes_no"
    accepts = frozenset({"text", "choice"})
    options: ClassVar[frozenset[str]] = frozenset({"yes_label", "no_label"})

    def labels(self, slot: dict[str, Any]) -> tuple[str, str]:
        return str(slot.get("yes_label", "はい")), str(slot.get("no_label", "いいえ"))

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        yes, no = self.labels(slot)
        if answer.kind == "choice" and answer.choice in (0, 1):
            return Ok(answer.choice == 0)
        if answer.kind == "text" and answer.text:
            key = fold(answer.text)
            if key == fold(yes):
                return Ok(True)
            if key == fold(no):
                return Ok(False)
            value = yes_no_of(answer.text)
            if value is not None:
                return Ok(value)
        return Invalid("no_match", f"「{yes}」か「{no}」でお答えください。")

    def display(self, slot: dict[str, Any], value: Any) -> str:
        yes, no = self.labels(slot)
        return "" if value is None else (yes if value else no)

    def quick_actions(self, slot: dict[str, Any], ctx: Ctx) -> list[QuickAction]:
        yes, no = self.labels(slot)
        return [{"kind": "choice", "label": yes, "index": 0}, {"kind": "choice", "label": no, "index": 1}]

    def example(self, slot: dict[str, Any]) -> str:
        return str(slot.get("example") or self.labels(slot)[0])

    def check(self, slot: dict[str, Any], script: Any) -> list[SpecProblem]:
        return [(k, f"{k} が20文字を超えています。", "20文字以内に短くしてください。")
                for k in ("yes_label", "no_label") if len(str(slot.get(k, ""))) > MAX_LABEL]


_AGREE = {fold(w) for w in ("同意する", "同意します", "同意", "はい", "承諾", "承諾します", "承諾する", "agree", "了解", "了承")}
_DECLINE = {fold(w) for w in ("同意しない", "同意しません", "いいえ", "しない", "承諾しない", "disagree")}


class ConsentType(YesNoType):
    """Explicit agreement; anything but a clear 同意 keeps the form from going on."""

    name = "consent"
    options: ClassVar[frozenset[str]] = frozenset({"agree_label", "decline_label", "decline_message"})

    def labels(self, slot: dict[str, Any]) -> tuple[str, str]:
        return str(slot.get("agree_label", "同意する")), str(slot.get("decline_label", "同意しない"))

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        agree, decline = self.labels(slot)
        key = fold(answer.text or "") if answer.kind == "text" else None
        if (answer.kind == "choice" and answer.choice == 0) or key in _AGREE or key == fold(agree):
            return Ok(True)
        if (answer.kind == "choice" and answer.choice == 1) or key in _DECLINE or key == fold(decline):
            msg = slot.get("decline_message") or (
                "同意いただけない場合は、この手続きを進めることができません。やめる場合は「やめる」を押してください。")
            return Invalid("declined", str(msg), example=agree)
        return Invalid("no_match", f"内容をご確認のうえ、「{agree}」を押してください。", example=agree)

    def check(self, slot: dict[str, Any], script: Any) -> list[SpecProblem]:
        return [(k, f"{k} が20文字を超えています。", "20文字以内に短くしてください。")
                for k in ("agree_label", "decline_label") if len(str(slot.get(k, ""))) > MAX_LABEL]
