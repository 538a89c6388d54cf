"""`when:` conditions of a slot and which slots are active for the current answers.

  when: {slot: X, equals: V} | {slot: X, not_equals: V} | {slot: X, in: [..]} | {slot: X, not_in: [..]}
        {slot: X, filled: true|false} | {slot: X, contains: V}      (multi-choice)
        {all: [..]} | {any: [..]} | {not: {..}}
A value matches a choice slot's stored value or its label, so staff may write either.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bot.forms.slots import slot_type

if TYPE_CHECKING:
    from bot.forms.script import Script

OPERATORS = ("equals", "not_equals", "in", "not_in", "filled", "contains")


def _same(script: Script, slot_id: str, stored: Any, wanted: Any) -> bool:
    if stored == wanted:
        return True
    try:
        slot = script.slot(slot_id)
    except KeyError:
        return False
    shown = slot_type(str(slot.get("type"))).display(slot, stored) if stored is not None else None
    return shown is not None and str(wanted) == shown


def holds(script: Script, cond: Any, values: dict[str, Any]) -> bool:
    if cond is None:
        return True
    if not isinstance(cond, dict):
        return False
    if "all" in cond:
        return all(holds(script, c, values) for c in cond["all"])
    if "any" in cond:
        return any(holds(script, c, values) for c in cond["any"])
    if "not" in cond:
        return not holds(script, cond["not"], values)
    sid = str(cond.get("slot"))
    v = values.get(sid)
    if "filled" in cond:
        return (v not in (None, "", [], {})) == bool(cond["filled"])
    if "equals" in cond:
        return _same(script, sid, v, cond["equals"])
    if "not_equals" in cond:
        return not _same(script, sid, v, cond["not_equals"])
    if "in" in cond:
        return any(_same(script, sid, v, w) for w in cond["in"])
    if "not_in" in cond:
        return not any(_same(script, sid, v, w) for w in cond["not_in"])
    if "contains" in cond:
        return isinstance(v, list) and any(_same(script, sid, x, cond["contains"]) for x in v)
    return False


def referenced_slots(cond: Any) -> Iterator[str]:
    if isinstance(cond, dict):
        for key in ("all", "any"):
            for c in cond.get(key) or []:
                yield from referenced_slots(c)
        if "not" in cond:
            yield from referenced_slots(cond["not"])
        if "slot" in cond:
            yield str(cond["slot"])


def active_slot_ids(script: Script, values: dict[str, Any]) -> list[str]:
    """Slots to ask, in order, given the answers so far. A slot whose condition refers to an
    inactive slot sees that slot as unanswered."""
    active: list[str] = []
    effective: dict[str, Any] = {}
    for slot in script.slots:
        sid = str(slot["id"])
        if holds(script, slot.get("when"), effective):
            active.append(sid)
            if sid in values:
                effective[sid] = values[sid]
    return active
