"""Free text (with length bounds and an optional pattern) and street addresses."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from bot.forms.slots.base import Answer, Ctx, Invalid, Ok, Outcome, SlotType, SpecProblem
from bot.forms.textnorm import DASHES, nfkc


def _length_problems(slot: dict[str, Any]) -> list[SpecProblem]:
    lo, hi = slot.get("min_length"), slot.get("max_length")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        return [("min_length", f"最小文字数 {lo} が最大文字数 {hi} より大きくなっています。",
                 "min_length を max_length 以下にしてください。")]
    return []


class TextType(SlotType):
    name = "text"
    default_example = "〇〇について"
    free_text = True
    options: ClassVar[frozenset[str]] = frozenset({"min_length", "max_length", "pattern", "pattern_message"})

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        if answer.kind != "text" or answer.text is None:
            return self.wrong_kind(answer.kind)
        text = answer.text.strip()
        lo = int(slot.get("min_length", 1))
        hi = int(slot.get("max_length", 200))
        if len(text) < lo:
            return Invalid("too_short", f"{lo}文字以上で入力してください。")
        if len(text) > hi:
            return Invalid("too_long", f"{hi}文字以内で入力してください（いまは{len(text)}文字です）。")
        pattern = slot.get("pattern")
        if pattern and not re.fullmatch(pattern, nfkc(text)):
            return Invalid("pattern", str(slot.get("pattern_message") or "入力の形が正しくありません。"))
        return Ok(text)

    def check(self, slot: dict[str, Any], script: Any) -> list[SpecProblem]:
        problems = _length_problems(slot)
        pattern = slot.get("pattern")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(("pattern", f"正規表現 pattern が正しくありません（{exc}）。",
                                 "記号の対応（カッコなど）を確認するか、pattern を削除してください。"))
        return problems


_NUMBER_HINT = re.compile(r"[0-9０-９〇一二三四五六七八九十]+\s*(?:丁目|番地|番|号|-)|[0-9]")
_NOT_ADDRESS = re.compile(r"https?://|@|^[\W_]+$")


class AddressType(SlotType):
    name = "address"
    default_example = "宮本町1-1 〇〇マンション101号室"
    options: ClassVar[frozenset[str]] = frozenset({"min_length", "max_length", "require_number"})

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        if answer.kind != "text" or answer.text is None:
            return self.wrong_kind(answer.kind)
        # 1ー2ー3 → 1-2-3, but keep the long vowel in コーポ
        text = re.sub(f"(?<=[0-9])[{re.escape(DASHES)}](?=[0-9])", "-", nfkc(answer.text))
        text = re.sub(r"\s+", " ", text)
        lo = int(slot.get("min_length", 2))
        hi = int(slot.get("max_length", 100))
        if _NOT_ADDRESS.search(text):
            return Invalid("not_address", "住所として読み取れませんでした。")
        if len(text) < lo:
            return Invalid("too_short", "住所が短すぎるようです。町名と番地を入力してください。")
        if len(text) > hi:
            return Invalid("too_long", f"{hi}文字以内で入力してください。")
        if slot.get("require_number", True) and not _NUMBER_HINT.search(text):
            return Invalid("no_number", "番地（数字）が見つかりませんでした。番地まで入力してください。")
        return Ok(text)

    def check(self, slot: dict[str, Any], script: Any) -> list[SpecProblem]:
        return _length_problems(slot)
