"""Numbers typed as 12, １２, 十二, 1,200, with units such as 個/台/枚/人/kg."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from bot.forms.slots.base import Answer, Ctx, Invalid, Ok, Outcome, SlotType, SpecProblem
from bot.forms.textnorm import KANJI_NUMERAL_CHARS, kanji_to_int, nfkc

_UNITS = "個|台|枚|人|名|本|点|回|kg|キロ|キログラム|キロ グラム|つ|件|冊|袋|箱|歳|才|階|部屋|棟|m|メートル|cm|円"
_FILLER = re.compile(r"^(?:約|およそ|だいたい|大体|おおよそ|計|合計|全部で)|(?:くらい|ぐらい|程度|ほど|位|です|でした|。)+$")
_NUM = re.compile(rf"^(?P<num>-?[0-9][0-9,]*(?:\.[0-9]+)?|[{KANJI_NUMERAL_CHARS}]+)\s*(?P<unit>{_UNITS})?$")


def parse_number(text: str) -> float | None:
    t = nfkc(text).lower().replace(" ", "")
    for _ in range(2):
        t = _FILLER.sub("", t)
    m = _NUM.match(t)
    if not m:
        return None
    raw = m.group("num")
    if raw[0] in KANJI_NUMERAL_CHARS:
        value = kanji_to_int(raw)
        return None if value is None else float(value)
    raw = raw.replace(",", "")
    try:
        return float(raw)
    except ValueError:
        return None


class NumberType(SlotType):
    name = "number"
    default_example = "12"
    options: ClassVar[frozenset[str]] = frozenset({"min", "max", "unit", "integer"})

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        if answer.kind != "text" or answer.text is None:
            return self.wrong_kind(answer.kind)
        value = parse_number(answer.text)
        unit = str(slot.get("unit", ""))
        if value is None:
            return Invalid("not_number", "数字が読み取れませんでした。数字だけで入力してください。")
        integer = slot.get("integer", True)
        if integer and value != int(value):
            return Invalid("not_integer", "小数ではなく、整数で入力してください。")
        lo, hi = slot.get("min"), slot.get("max")
        if lo is not None and value < lo:
            return Invalid("too_small", f"{_fmt(lo)}{unit}以上で入力してください。")
        if hi is not None and value > hi:
            return Invalid("too_large", f"{_fmt(hi)}{unit}以下で入力してください。")
        return Ok(int(value) if integer else value)

    def display(self, slot: dict[str, Any], value: Any) -> str:
        if value is None:
            return ""
        return f"{_fmt(value)}{slot.get('unit', '')}"

    def example(self, slot: dict[str, Any]) -> str:
        return str(slot.get("example") or f"{slot.get('min', 0) if slot.get('min', 0) > 0 else 12}{slot.get('unit', '')}")

    def check(self, slot: dict[str, Any], script: Any) -> list[SpecProblem]:
        lo, hi = slot.get("min"), slot.get("max")
        if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
            return [("min", f"最小値 {lo} が最大値 {hi} より大きくなっています。", "min を max 以下にしてください。")]
        return []


def _fmt(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:,}"
