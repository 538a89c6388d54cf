"""Item lists with quantities ("ソファ1つと自転車2台", "布団3枚、タンス") priced from a fee table.

The fee table (slot option `table`, e.g. data/sodaigomi_fees.yml) has `categories` (id, fee_yen),
`items` (name, synonyms, category, optional bundle size and note) and `not_accepted` (name,
synonyms, reason). Names are found anywhere in the text (longest synonym first), quantities are
read right after (or right before) each name; whatever text is left over is an unknown item.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any, ClassVar

from bot.forms.slots.base import Answer, Ctx, Invalid, Ok, Outcome, SlotType, SpecProblem
from bot.forms.textnorm import KANJI_NUMERAL_CHARS, NATIVE_COUNTS, fold, nfkc, parse_int, to_katakana

# Matching runs on katakana-folded text (fold()), so counters are folded the same way.
_COUNTERS = to_katakana("個|台|枚|本|点|脚|つ|組|セット|箱|張|棹|竿|束|基|着|こ|ケ|ヶ|か所|体|輪|畳")
_NATIVE = "|".join(sorted((re.escape(to_katakana(k)) for k in NATIVE_COUNTS), key=len, reverse=True))
_QTY = rf"(?P<n>{_NATIVE}|\d+|[{KANJI_NUMERAL_CHARS}]+)\s*(?:{_COUNTERS})?"
_AFTER = re.compile(rf"\s*(?:[ヲガハモノ]\s*)?(?:[x×*]\s*)?{_QTY}")
_BEFORE = re.compile(rf"{_QTY}\s*(?:ノ)?\s*$")
# Words that carry no item: particles, separators, polite endings, "I want to throw away".
_FILLER = re.compile(
    "|".join([
        r"オネガイシマス|オネガイ|クダサイ|デス|マス|シタイ|タイ|ステタイ|捨テタイ|出シタイ|ダシタイ|処分シタイ|回収シテ",
        r"ソレカラ|ソレト|アト|オヨビ|及ビ|ナド|等|ト|ヤ|ヲ|ガ|ハ|モ|ノ|ニ|デ|and|&|\+",
        r"[、,，。・/\s\n]",
    ])
)


def _entries(table: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [e for e in (table or {}).get(key) or [] if isinstance(e, dict)]


def _synonym_index(table: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
    """(folded synonym, entry, accepted?) longest first."""
    idx: list[tuple[str, dict[str, Any], bool]] = []
    for accepted, key in ((True, "items"), (False, "not_accepted")):
        for e in _entries(table, key):
            for name in [e.get("name"), *(e.get("synonyms") or [])]:
                if name:
                    idx.append((fold(str(name)), e, accepted))
    idx.sort(key=lambda t: len(t[0]), reverse=True)
    return idx


def category_fees(table: dict[str, Any]) -> dict[str, int]:
    return {str(c["id"]): int(c["fee_yen"]) for c in _entries(table, "categories") if "fee_yen" in c}


def parse_items(text: str, table: dict[str, Any]) -> tuple[list[tuple[dict[str, Any], bool, int]], list[str]]:
    """Found (entry, accepted?, quantity) in order of appearance, and unknown leftover words."""
    work = fold(nfkc(text).replace("\n", "、"))
    # fold() removed spaces; keep separators visible to the residue check
    taken = [False] * len(work)
    found: list[tuple[int, dict[str, Any], bool, int]] = []
    for syn, entry, accepted in _synonym_index(table):
        start = 0
        while syn and (pos := work.find(syn, start)) >= 0:
            end = pos + len(syn)
            start = end
            if any(taken[pos:end]):
                continue
            qty = 1
            span_start, span_end = pos, end
            m = _AFTER.match(work, end)
            if m and not any(taken[m.start():m.end()]):
                qty_val = parse_int(_from_kata(m.group("n")))
                if qty_val is not None:
                    qty, span_end = qty_val, m.end()
            else:
                mb = _BEFORE.search(work[:pos])
                if mb and not any(taken[mb.start():pos]):
                    qty_val = parse_int(_from_kata(mb.group("n")))
                    if qty_val is not None:
                        qty, span_start = qty_val, mb.start()
            for i in range(span_start, span_end):
                taken[i] = True
            found.append((pos, entry, accepted, qty))
    residue = "".join("\0" if t else c for c, t in zip(work, taken, strict=True))
    unknown = []
    for chunk in residue.split("\0"):
        rest = _FILLER.sub(" ", chunk).strip()
        for word in rest.split():
            if word:
                unknown.append(word)
    found.sort(key=lambda t: t[0])
    return [(e, a, q) for _, e, a, q in found], unknown


def _from_kata(s: str) -> str:
    """Native counting words were matched in katakana; turn them back for parse_int."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in s)


class ItemListType(SlotType):
    name = "item_list"
    default_example = "ソファ1つと自転車2台"
    options: ClassVar[frozenset[str]] = frozenset({"table", "max_quantity", "fee_note"})

    def _table(self, slot: dict[str, Any], ctx_script: Any) -> dict[str, Any]:
        return ctx_script.table(str(slot.get("table"))) or {}

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        if answer.kind != "text" or not answer.text:
            return self.wrong_kind(answer.kind)
        table = self._table(slot, ctx.script)
        found, unknown = parse_items(answer.text, table)
        refused = [e for e, accepted, _ in found if not accepted]
        if refused:
            e = refused[0]
            return Invalid("not_accepted", f"「{e['name']}」は粗大ごみとして出せません。{e.get('reason', '')}\n"
                           "それ以外の品目を入力してください。")
        if unknown:
            names = [str(e["name"]) for e in _entries(table, "items")]
            keys = {fold(s): str(e["name"]) for e in _entries(table, "items") for s in [e["name"], *(e.get("synonyms") or [])]}
            hints = []
            for word in unknown[:3]:
                close = difflib.get_close_matches(word, list(keys), n=1, cutoff=0.5)
                if close:
                    hints.append(f"「{word}」→「{keys[close[0]]}」")
            msg = "「" + "」「".join(unknown[:3]) + "」がわかりませんでした。"
            if hints:
                msg += "\nもしかして：" + "、".join(hints)
            msg += "\n品目名の例：" + "、".join(names[:8])
            return Invalid("unknown_item", msg)
        if not found:
            return Invalid("empty", "品目が読み取れませんでした。出したいものの名前と数を入力してください。")
        fees = category_fees(table)
        max_q = int(slot.get("max_quantity", 10))
        merged: dict[str, dict[str, Any]] = {}
        for entry, _, qty in found:
            key = str(entry.get("id") or entry["name"])
            if key in merged:
                merged[key]["quantity"] += qty
                continue
            merged[key] = {"id": key, "name": str(entry["name"]), "quantity": qty, "category": str(entry.get("category")),
                           "bundle": int(entry.get("bundle", 1)), "note": str(entry.get("note", "")),
                           "confidence": str(entry.get("confidence", ""))}
        items = []
        total = 0
        for it in merged.values():
            if it["quantity"] < 1:
                return Invalid("zero", f"「{it['name']}」の数は1以上で入力してください。")
            if it["quantity"] > max_q:
                return Invalid("too_many", f"「{it['name']}」が{it['quantity']}点あります。1回の申込みは1品目{max_q}点までです。"
                               "多い場合は受付センターにご相談ください。")
            unit_fee = fees.get(it["category"], 0)
            units = math.ceil(it["quantity"] / it["bundle"])
            it.update(unit_fee=unit_fee, units=units, fee=unit_fee * units)
            total += it["fee"]
            items.append(it)
        value = {"items": items, "total_yen": total}
        return Ok(value, ack=self.breakdown(slot, value))

    def breakdown(self, slot: dict[str, Any], value: dict[str, Any]) -> str:
        lines = ["次の品目で受け付けます（料金は目安です）。"]
        for it in value["items"]:
            line = f"・{it['name']} {it['quantity']}点：{it['fee']:,}円（{it['category']}）"
            if it["bundle"] > 1:
                line += f"\n　※{it['bundle']}点までを1まとめとして数えます"
            if it["note"]:
                line += f"\n　※{it['note']}"
            lines.append(line)
        lines.append(f"合計：{value['total_yen']:,}円")
        if slot.get("fee_note"):
            lines.append(str(slot["fee_note"]))
        return "\n".join(lines)

    def display(self, slot: dict[str, Any], value: Any) -> str:
        if not value:
            return ""
        parts = [f"{it['name']}×{it['quantity']}（{it['fee']:,}円）" for it in value["items"]]
        return "、".join(parts) + f"／合計{value['total_yen']:,}円（目安）"

    def check(self, slot: dict[str, Any], script: Any) -> list[SpecProblem]:
        ref = slot.get("table")
        table = script.table(str(ref)) if ref else None
        if not isinstance(table, dict):
            return [("table", f"料金表 {ref} が読み込めません。", "table に dialogs/ からの相対パス（例: data/sodaigomi_fees.yml）を書いてください。")]
        problems: list[SpecProblem] = []
        fees = category_fees(table)
        if not fees:
            problems.append(("table", f"料金表 {ref} に categories（区分と料金）がありません。", "categories に id と fee_yen を書いてください。"))
        seen: dict[str, str] = {}
        for e in _entries(table, "items"):
            if str(e.get("category")) not in fees:
                problems.append(("table", f"料金表 {ref} の品目「{e.get('name')}」の区分「{e.get('category')}」がありません。",
                                 "categories にある区分 id を書いてください。"))
            for s in [e.get("name"), *(e.get("synonyms") or [])]:
                k = fold(str(s))
                if k in seen and seen[k] != e.get("name"):
                    problems.append(("table", f"料金表 {ref} で「{s}」が「{seen[k]}」と「{e.get('name')}」の両方にあります。",
                                     "どちらか一方だけに書いてください。"))
                seen[k] = str(e.get("name"))
        return problems
