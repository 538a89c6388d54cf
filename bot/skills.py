"""Wires the conversation capabilities (procedure finder, forms, hand-offs) into the core."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from bot.conversation.core import Skills
from bot.form_skill import FormSkill, register_submission_effects
from bot.procedure_skill import ProcedureSkill
from bot.submissions.mail import MailNotifier
from bot.submissions.store import LogNotifier, SectionNotifier

if TYPE_CHECKING:
    from bot.services import Services


def section_notifiers(services: Services, catalog) -> dict[str, object]:
    """`log` always; `mail` when KB_SMTP_URL is set (a script asking for mail without it is logged)."""
    notifiers: dict[str, object] = {"log": LogNotifier()}
    smtp_url = os.environ.get("KB_SMTP_URL")
    if smtp_url:
        def name(pid: str) -> str:
            proc = catalog.get(pid)
            return proc.name if proc else pid

        notifiers["mail"] = MailNotifier(smtp_url, os.environ.get("KB_MAIL_FROM", "line-intake@localhost"),
                                         services.settings.public_base_url, name)
    return notifiers


def build_skills(services: Services) -> Skills:
    skills = Skills()
    catalog = services.catalog()  # loaded once per process; a reload comes with the staff console
    ProcedureSkill.from_services(services, parse=services.nlu.parse, catalog=lambda: catalog).register(skills)
    FormSkill(registry=services.scripts, parse=services.nlu.parse).register(skills)
    notifier = SectionNotifier(services.submissions, section_notifiers(services, catalog))
    services.section_notifier = register_submission_effects(services.effects, services.submissions, notifier)
    return skills
