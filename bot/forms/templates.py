"""Message templates: `{slot_id}` shows an answer, `{slot_id.field}` one part of it (e.g.
`{postal_code.address}`, `{items.total_yen}`), plus the names in BUILTINS."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.forms.slots import slot_type

if TYPE_CHECKING:
    from bot.forms.script import Script

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z0-9_]+))?\}")
BUILTINS = ("procedure_name", "receipt_no", "section", "phone", "email", "hours", "contact")


def contact_text(script: Script) -> str:
    o = script.owner
    if o.get("contact"):
        return str(o["contact"])
    parts = [str(o.get("section", ""))]
    details = []
    if o.get("phone"):
        details.append(f"電話 {o['phone']}")
    if o.get("hours"):
        details.append(f"受付時間 {o['hours']}")
    if o.get("email"):
        details.append(f"メール {o['email']}")
    if details:
        parts.append("（" + "、".join(details) + "）")
    return "".join(parts)


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "はい" if v else "いいえ"
    if isinstance(v, int):
        return f"{v:,}"
    return "" if v is None else str(v)


def render(template: str, script: Script, values: dict[str, Any], extra: dict[str, Any] | None = None) -> str:
    builtins: dict[str, Any] = {
        "procedure_name": script.name,
        "section": script.owner.get("section", ""),
        "phone": script.owner.get("phone", ""),
        "email": script.owner.get("email", ""),
        "hours": script.owner.get("hours", ""),
        "contact": contact_text(script),
        **(extra or {}),
    }

    def sub(m: re.Match[str]) -> str:
        name, field = m.group(1), m.group(2)
        if name in builtins and field is None:
            return _fmt(builtins[name])
        if name in script.slot_ids:
            v = values.get(name)
            if field is None:
                slot = script.slot(name)
                return slot_type(str(slot.get("type"))).display(slot, v) if v is not None else ""
            return _fmt(v.get(field)) if isinstance(v, dict) else ""
        return m.group(0)

    return PLACEHOLDER.sub(sub, str(template)).strip()
