"""The process-wide service objects, built lazily from Settings."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.conversation.core import Skills
from bot.effects import EffectRunner
from bot.line_api import LineApi
from bot.queue import Queue
from bot.redis_conn import connect
from bot.storage.db import Database
from bot.turn_store import TurnStore

if TYPE_CHECKING:
    from bot.submissions.store import SectionNotifier

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis, self.in_process_redis = connect(settings.redis_url)
        self.queue = Queue(
            self.redis,
            partitions=settings.partitions,
            dedup_ttl_s=settings.dedup_ttl_s,
            lease_ttl_ms=settings.lease_ttl_ms,
            in_process=self.in_process_redis,
        )
        # Built with the skills (bot/skills.py); its thread runs in the worker (bot/worker.py).
        self.section_notifier: SectionNotifier | None = None
        self.store = TurnStore(
            self.redis, session_ttl_s=settings.session_ttl_s, form_resume_ttl_s=settings.form_resume_ttl_s
        )

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database_url)

    @cached_property
    def line(self) -> LineApi:
        s = self.settings
        return LineApi(base_url=s.line_api_base_url, data_base_url=s.line_data_api_base_url,
                       access_token=s.channel_access_token)

    @cached_property
    def effects(self) -> EffectRunner:
        return EffectRunner(salt=self.settings.channel_secret[:8])

    @cached_property
    def nlu(self):
        """Embedded NLU (trained from nlu_data/, cached); Rasa first when RASA_URL is set."""
        from bot.nlu.embedded import EmbeddedNlu

        embedded = EmbeddedNlu.load_or_train()
        if not self.settings.rasa_url:
            return embedded
        from bot.nlu.fallback import FallbackNlu
        from integrations.rasa.client import RasaNlu

        return FallbackNlu(RasaNlu(self.settings.rasa_url), embedded)

    def catalog(self):
        """The procedure catalog from SQL (filled from the repo file on a fresh database)."""
        from bot.catalog.service import get_catalog

        return get_catalog(self.db.sessions)

    @cached_property
    def scripts(self):
        """Dialog scripts from dialogs/, reloaded when edited; versions kept in SQL."""
        from bot.config import PROJECT_ROOT
        from bot.forms.registry import ScriptRegistry
        from bot.forms.snapshots import SqlSnapshotStore

        return ScriptRegistry(PROJECT_ROOT / "dialogs", SqlSnapshotStore(self.db))

    @cached_property
    def submissions(self):
        from bot.submissions.crypto import load_cipher
        from bot.submissions.store import SubmissionStore

        return SubmissionStore(self.db, load_cipher(self.settings.var_dir), salt=self.settings.channel_secret[:8])

    @cached_property
    def skills(self) -> Skills:
        """The conversation capabilities; each is wired in by its own module."""
        from bot.skills import build_skills

        return build_skills(self)

    def close(self) -> None:
        if "line" in self.__dict__:
            self.line.close()
        if "db" in self.__dict__:
            self.db.dispose()
