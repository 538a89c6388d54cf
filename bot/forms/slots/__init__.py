"""Slot types by name (the `type:` of a slot in a dialog script)."""

from __future__ import annotations

from bot.forms.slots.base import Answer, Ctx, Invalid, Ok, Pending, SlotType
from bot.forms.slots.choice import ChoiceType, ConsentType, MultiChoiceType, YesNoType
from bot.forms.slots.contact import EmailType, PhoneType
from bot.forms.slots.dates import DateType
from bot.forms.slots.items import ItemListType
from bot.forms.slots.media import ImageType, LocationType
from bot.forms.slots.number import NumberType
from bot.forms.slots.postal import PostalCodeType
from bot.forms.slots.text import AddressType, TextType

SLOT_TYPES: dict[str, SlotType] = {
    t.name: t
    for t in (
        TextType(), NumberType(), ChoiceType(), MultiChoiceType(), DateType(), PostalCodeType(), AddressType(),
        PhoneType(), EmailType(), YesNoType(), ConsentType(), LocationType(), ImageType(), ItemListType(),
    )
}


def slot_type(name: str) -> SlotType:
    return SLOT_TYPES[name]


__all__ = ["SLOT_TYPES", "Answer", "Ctx", "Invalid", "Ok", "Pending", "SlotType", "slot_type"]
