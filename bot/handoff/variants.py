"""The one to three questions that pick the right variant of a procedure before the hand-off card
(e.g. 住民票の写し: だれの分か, 様式, 何通). Pure: the little state lives in the session under
`SESSION_KEY` and the answers are shown on the card.

Catalog form: `variants: [{id, question, choices: [str | {label}]}]`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.catalog.schema import ProcedureRecord
from bot.conversation.messages import qr_postback, text
from bot.routing.cards import DISPLAY_TEXT_MAX, short_label, truncate

SESSION_KEY = "handoff"
MAX_VARIANTS = 3  # more questions than this would be a form, not a hand-off
MAX_CHOICES = 12  # LINE: 13 quick replies
INTRO = "申請の前に、{n}つだけ教えてください。答えは申請のご案内に表示します。"


@dataclass(frozen=True)
class Variant:
    id: str
    question: str
    choices: tuple[str, ...]


def variants_of(proc: ProcedureRecord) -> list[Variant]:
    out: list[Variant] = []
    for raw in proc.variants or []:
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("question"):
            continue
        choices = []
        for c in raw.get("choices") or []:
            label = c.get("label") if isinstance(c, dict) else c
            if label is not None and str(label).strip():
                choices.append(str(label).strip())
        if choices:
            out.append(Variant(str(raw["id"]), str(raw["question"]), tuple(choices[:MAX_CHOICES])))
    return out[:MAX_VARIANTS]


def next_variant(proc: ProcedureRecord, answers: dict[str, str]) -> tuple[int, Variant] | None:
    for i, v in enumerate(variants_of(proc)):
        if v.id not in answers:
            return i, v
    return None


def answered(proc: ProcedureRecord, answers: dict[str, str]) -> list[tuple[str, str]]:
    """(question, answer) in catalog order, for the card."""
    return [(v.question, answers[v.id]) for v in variants_of(proc) if v.id in answers]


def question_message(proc: ProcedureRecord, index: int, variant: Variant, then: str, first: bool) -> dict:
    """The question as text with numbered full choices and one quick reply per choice."""
    total = len(variants_of(proc))
    lines = []
    if first:
        lines.append(INTRO.format(n=total))
    lines.append(f"（{index + 1}/{total}）{variant.question}")
    lines += [f"{i}. {c}" for i, c in enumerate(variant.choices, 1)]
    quick = [
        qr_postback(short_label(c), f"action=variant&proc={proc.id}&v={variant.id}&c={i}&then={then}",
                    truncate(c, DISPLAY_TEXT_MAX))
        for i, c in enumerate(variant.choices)
    ]
    return text("\n".join(lines), quick)


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).strip().lower()
    return re.sub(r"[\s。、．.!！?？]", "", s)


def match_choice(variant: Variant, typed: str) -> str | None:
    """A typed answer: the choice number, the full label, or text that fits exactly one choice."""
    t = _fold(typed)
    if not t:
        return None
    if t.isdigit():
        n = int(t)
        return variant.choices[n - 1] if 1 <= n <= len(variant.choices) else None
    folded = [_fold(c) for c in variant.choices]
    exact = [c for c, f in zip(variant.choices, folded, strict=True) if f == t]
    if exact:
        return exact[0]
    # "本人" → "本人だけ"; "個人票" → "個人票（1人分…）". Ambiguous text ("世帯") matches nothing.
    partial = [c for c, f in zip(variant.choices, folded, strict=True) if f.startswith(t) or (len(t) >= 2 and t in f)]
    return partial[0] if len(partial) == 1 else None


def copies_of(answers: dict[str, str]) -> int | None:
    """The number of copies when a 何通 answer is an exact number (「3通以上」 is not)."""
    value = answers.get("copies")
    if not value:
        return None
    m = re.fullmatch(r"(\d+)\s*通", unicodedata.normalize("NFKC", value).strip())
    return int(m.group(1)) if m else None
