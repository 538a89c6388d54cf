"""Wires the conversation capabilities (procedure finder, forms, hand-offs) into the core."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversation.core import Skills

if TYPE_CHECKING:
    from bot.services import Services


def build_skills(services: Services) -> Skills:
    return Skills()
