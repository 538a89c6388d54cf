"""Worker runtime: consumer threads that process the queue (process or in-process)."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading

from bot.analytics.outbox import AnalyticsFlusher
from bot.content_store import ContentStore
from bot.processor import TurnProcessor
from bot.queue import Consumer, LeaseKeeper
from bot.services import Services

log = logging.getLogger(__name__)


def build_processor(services: Services) -> TurnProcessor:
    s = services.settings
    return TurnProcessor(
        queue=services.queue,
        store=services.store,
        line=services.line,
        effects=services.effects,
        skills=lambda: services.skills,
        max_text_chars=s.max_text_chars,
        reply_token_window_s=s.reply_token_window_s,
        loading_after_s=s.loading_after_s,
        contents=ContentStore(s.var_dir / "uploads"),
    )


class WorkerRuntime:
    def __init__(self, services: Services, concurrency: int | None = None) -> None:
        self.services = services
        self.stop_event = threading.Event()
        processor = build_processor(services)
        n = concurrency or services.settings.worker_concurrency
        # One consumer per process, its partitions' events spread over n handler threads: a
        # resident waits only for free capacity, not behind the residents hashed to one thread.
        self.consumers = [Consumer(services.queue, processor, threads=n)]
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.services.queue.ensure_groups()
        s = self.services
        flusher = AnalyticsFlusher(s.redis, s.db, prefix=s.queue.prefix, in_process=s.in_process_redis)
        _ = self.services.skills  # load NLU and catalog now, not on a resident's first message
        # The models, catalog and scripts live as long as the process: keep them out of the
        # collector's generations so a full collection does not walk them during a turn.
        gc.collect()
        gc.freeze()
        # Turns are short and mostly wait on Redis/LINE: hand the GIL over sooner than the default
        # 5 ms, so a consumer whose reply arrived does not wait behind another one's CPU work.
        sys.setswitchinterval(0.001)
        interval = self.services.queue.lease_ttl_ms / 3000
        keeper = LeaseKeeper(self.consumers, interval, self.stop_event)
        keeper.start()
        self.threads = [keeper, flusher.start(self.stop_event)]
        if s.section_notifier is not None:
            self.threads.append(s.section_notifier.start(self.stop_event))
        for i, consumer in enumerate(self.consumers):
            t = threading.Thread(target=consumer.run, args=(self.stop_event,), name=f"consumer-{i}", daemon=True)
            t.start()
            self.threads.append(t)
        log.info("worker started", extra={"consumers": len(self.consumers)})

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self.services.section_notifier is not None:
            self.services.section_notifier.wake()
        for t in self.threads:
            t.join(timeout)
        log.info("worker stopped")

    def run_forever(self) -> None:
        """Block until SIGTERM/SIGINT; then finish the current turns and release leases."""
        def _stop(signum, _frame) -> None:
            log.info("worker stopping", extra={"signal": signum})
            self.stop_event.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        self.start()
        self.stop_event.wait()
        self.stop()
