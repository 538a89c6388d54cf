"""Wires the conversation capabilities (procedure finder, forms, hand-offs) into the core."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversation.core import Skills
from bot.form_skill import FormSkill, register_submission_effects
from bot.procedure_skill import ProcedureSkill

if TYPE_CHECKING:
    from bot.services import Services


def build_skills(services: Services) -> Skills:
    skills = Skills()
    catalog = services.catalog()  # loaded once per process; a reload comes with the staff console
    ProcedureSkill.from_services(services, parse=services.nlu.parse, catalog=lambda: catalog).register(skills)
    FormSkill(registry=services.scripts, parse=services.nlu.parse).register(skills)
    register_submission_effects(services.effects, services.submissions)
    return skills
