"""Phone numbers (Japanese formats) and e-mail addresses."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from bot.forms.slots.base import Answer, Ctx, Invalid, Ok, Outcome, SlotType
from bot.forms.textnorm import nfkc, unify_dashes

# Two-digit area codes (03 東京, 06 大阪); everything else is formatted 0AA(A)-…; mobiles 3-4-4.
_MOBILE = re.compile(r"0[5789]0\d{8}")
_FREE = re.compile(r"0120\d{6}|0800\d{7}")


def normalize_phone(text: str) -> str | None:
    """Digits-only domestic number, or None. Accepts 044-200-3939, 090…, +81 44…, (044)…, 全角."""
    t = unify_dashes(nfkc(text))
    t = re.sub(r"^(?:tel|電話|でんわ)[:：]?", "", t, flags=re.I)
    t = re.sub(r"[\s()（）.-]", "", t)
    if t.startswith("+81"):
        t = "0" + t[3:].lstrip("0")
    elif t.startswith("0081"):
        t = "0" + t[4:].lstrip("0")
    if not re.fullmatch(r"\d+", t):
        return None
    if _MOBILE.fullmatch(t) or _FREE.fullmatch(t):
        return t
    if re.fullmatch(r"0[1-9]\d{8}", t) and not t.startswith(("050", "070", "080", "090")):
        return t
    return None


def format_phone(digits: str, typed: str | None = None) -> str:
    if typed:  # keep the resident's own grouping when it has the right digits
        grouped = re.sub(r"[\s()（）]", "-", unify_dashes(nfkc(typed))).strip("-")
        grouped = re.sub(r"-+", "-", grouped)
        if grouped.replace("-", "") == digits and grouped.count("-") == 2:
            return grouped
    if _MOBILE.fullmatch(digits):
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if digits.startswith("0120"):
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    if digits.startswith(("03", "06")):
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


class PhoneType(SlotType):
    name = "phone"
    default_example = "044-200-3939 または 090-1234-5678"

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        if answer.kind != "text" or answer.text is None:
            return self.wrong_kind(answer.kind)
        digits = normalize_phone(answer.text)
        if digits is None:
            n = len(re.sub(r"\D", "", nfkc(answer.text)))
            if n and n not in (10, 11):
                return Invalid("length", f"電話番号のけた数が合いません（{n}けた）。市外局番から入力してください。")
            return Invalid("format", "電話番号として読み取れませんでした。市外局番から入力してください。")
        return Ok(format_phone(digits, answer.text))


_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_TYPOS = {"gmail.con": "gmail.com", "gmail.co": "gmail.com", "gmial.com": "gmail.com", "yahoo.co.jo": "yahoo.co.jp",
          "docomo.ne.jo": "docomo.ne.jp", "ezweb.ne.jo": "ezweb.ne.jp", "softbank.ne.jo": "softbank.ne.jp",
          "icloud.con": "icloud.com"}


class EmailType(SlotType):
    name = "email"
    default_example = "kawasaki.taro@example.jp"
    options: ClassVar[frozenset[str]] = frozenset()

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        if answer.kind != "text" or answer.text is None:
            return self.wrong_kind(answer.kind)
        t = nfkc(answer.text).replace("＠", "@").strip("。 ")
        if "@" not in t:
            return Invalid("no_at", "メールアドレスに「@」がありません。")
        if not _EMAIL.fullmatch(t) or len(t) > 254:
            return Invalid("format", "メールアドレスの形が正しくありません（空白や使えない記号がないかご確認ください）。")
        local, domain = t.rsplit("@", 1)
        domain = domain.lower()
        if domain in _TYPOS:
            return Invalid("typo", f"「{domain}」は「{_TYPOS[domain]}」の打ち間違いではありませんか。")
        return Ok(f"{local}@{domain}")
