"""The worker's event handler: one queued webhook event → one conversation turn.

Order of work for an event E (see docs/reliability.md):
1. If E's turn is already committed (a re-run after a crash), skip to 4.
2. Run the pure core on the stored session, then apply its effects
   (idempotent: submissions are keyed on the form instance).
3. Commit session + outbox atomically, fenced by the partition lease.
4. Deliver the outbox: reply while the token is fresh, else push with an
   X-Line-Retry-Key derived from E, then mark E sent. The queue acks E after.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.analytics.outbox import encode
from bot.content_store import ContentStore
from bot.conversation import texts
from bot.conversation.core import Skills, TurnContext, handle_turn
from bot.conversation.incoming import Incoming
from bot.conversation.messages import text
from bot.effects import Analytics, EffectRunner
from bot.events import ParsedEvent, parse_event
from bot.faults import crashpoint
from bot.line_api import LineApi, retry_key_for
from bot.loading import DelayedCalls
from bot.logging_setup import user_hash
from bot.queue import Delivery, PartitionMoved, Queue, TransientError
from bot.turn_store import FencingError, TurnRecord, TurnStore

log = logging.getLogger(__name__)
JST = ZoneInfo("Asia/Tokyo")
_LOADING = DelayedCalls("loading-animation")


class TurnProcessor:
    def __init__(
        self,
        *,
        queue: Queue,
        store: TurnStore,
        line: LineApi,
        effects: EffectRunner,
        skills: Callable[[], Skills],
        max_text_chars: int = 1000,
        reply_token_window_s: float = 50.0,
        loading_after_s: float = 0.8,
        clock: Callable[[], datetime] = lambda: datetime.now(JST),
        contents: ContentStore | None = None,
    ) -> None:
        self.contents = contents
        self.queue = queue
        self.store = store
        self.line = line
        self.effects = effects
        self.skills = skills
        self.max_text_chars = max_text_chars
        self.reply_token_window_s = reply_token_window_s
        self.loading_after_s = loading_after_s
        self.clock = clock

    def __call__(self, delivery: Delivery) -> None:
        parsed = parse_event(delivery.payload.get("event"), delivery.payload.get("redacted") or ())
        extra = {
            "event_id": parsed.event_id,
            "event_type": parsed.event_type,
            "partition": delivery.partition,
            "redelivery": parsed.is_redelivery,
            "claimed": delivery.claimed,
        }
        if parsed.incoming is None or not parsed.user_id:
            log.info("event ignored", extra={**extra, "reason": parsed.note or "unhandled type"})
            return
        extra["user"] = user_hash(parsed.user_id)
        record, session, formsave = self.store.begin(parsed.event_id, parsed.user_id)
        if record is not None and record.status == "sent":
            log.info("event already answered", extra=extra)
            return
        started = time.monotonic()
        if record is None:
            messages, method = self._run_turn(parsed, delivery, session, formsave)
        else:
            messages, method = record.messages, ""  # re-run after a crash: send what was decided, do not decide again
            log.info("resending committed turn", extra=extra)
        self._deliver(parsed, messages, record, delivery, method)
        log.info("turn done", extra={**extra, "ms": round((time.monotonic() - started) * 1000, 2),
                                     "messages": len(messages)})

    # -- the turn -----------------------------------------------------------
    def _run_turn(self, parsed: ParsedEvent, delivery: Delivery, session: dict,
                  formsave: dict | None) -> tuple[list[dict], str]:
        """Decide and commit the turn; returns its messages and how they are being sent."""
        assert parsed.incoming is not None and parsed.user_id is not None
        user_id = parsed.user_id
        loading = _LOADING.call_later(self.loading_after_s, self.line.show_loading, user_id)
        try:
            now = self.clock()
            ctx = TurnContext(now=now, skills=self.skills(), max_text_chars=self.max_text_chars,
                              formsave=formsave)
            incoming = self._with_content(parsed.incoming, session)
            result = handle_turn(session, incoming, ctx)
            effects = list(result.effects)
            if incoming.kind not in ("follow", "unfollow", "other"):
                # One per resident message (never its text): the dashboard's messages per day.
                effects.append(Analytics("message_received", None, {"kind": incoming.kind}))
            try:
                extra_messages = self.effects.run(effects, user_id=user_id, event_id=parsed.event_id)
            except TransientError:
                self._tell_delayed(parsed)
                raise
            messages = (result.messages + extra_messages)[:5]
            if extra_messages:  # a turn whose effects produced an answer, e.g. a stored application
                crashpoint("before_commit_after_effects")
            method = ""
            if messages:
                method = "reply" if parsed.reply_token and self._token_fresh(parsed) else "push"
            uh = user_hash(user_id, self.effects.salt)
            at_ms = int(now.timestamp() * 1000)
            analytics = [encode(e.name, e.procedure_id, e.props, user_hash=uh, event_id=parsed.event_id, at_ms=at_ms)
                         for e in effects if isinstance(e, Analytics)]
            try:
                self.store.commit(
                    event_id=parsed.event_id,
                    user_id=user_id,
                    session=result.session,
                    formsave=result.formsave,
                    messages=messages,
                    lease_key=self.queue.lease_key(delivery.partition),
                    consumer_id=delivery.consumer_id,
                    sending=method,
                    analytics=analytics,
                )
            except FencingError:
                # Another consumer owns this user now and will process the event itself.
                log.warning("lost partition before commit", extra={"event_id": parsed.event_id})
                raise PartitionMoved("partition moved") from None
            return messages, method
        finally:
            loading.cancel()

    def _with_content(self, incoming: Incoming, session: dict) -> Incoming:
        """Fetch a photo from LINE only when a form is open to receive it."""
        if incoming.kind != "image" or not incoming.message_id or not session.get("form") or self.contents is None:
            return incoming
        try:
            ref = self.contents.save(incoming.message_id, self.line.get_content(incoming.message_id))
        except Exception as exc:  # the form re-asks politely when content_ref is missing
            log.warning("image content not fetched", extra={"event_id": incoming.event_id, "error": type(exc).__name__})
            return incoming
        return replace(incoming, content_ref=ref)

    def _tell_delayed(self, parsed: ParsedEvent) -> None:
        """While a dependency is down, say once that the request is being handled."""
        if not self.store.flag_once(f"delayed:{parsed.event_id}"):
            return
        msg = [text(texts.PROCESSING_DELAYED)]
        fresh_token = parsed.reply_token and self._token_fresh(parsed)
        if fresh_token and self.line.reply(parsed.reply_token, msg).delivered:
            return
        assert parsed.user_id is not None
        self.line.push(parsed.user_id, msg, retry_key_for(f"delayed:{parsed.event_id}"))

    # -- delivery -----------------------------------------------------------
    def _token_fresh(self, parsed: ParsedEvent) -> bool:
        age_s = time.time() - parsed.timestamp_ms / 1000 if parsed.timestamp_ms else 0.0
        return age_s < self.reply_token_window_s

    def _deliver(self, parsed: ParsedEvent, messages: list[dict], prior: TurnRecord | None,
                 delivery: Delivery, committed_method: str = "") -> None:
        """Send the outbox. ``prior`` is the record found before this run (a re-run after a crash);
        ``committed_method`` is how this run's commit already marked the turn as being sent."""
        assert parsed.user_id is not None
        event_id = parsed.event_id
        if not messages:
            self._finish(event_id, "sent", "", delivery)
            return
        fresh = self._token_fresh(parsed)
        was_replying = prior is not None and prior.status == "sending" and prior.method == "reply"
        if parsed.reply_token and fresh and not (prior and prior.method == "push"):
            if committed_method != "reply":
                self.store.mark(event_id, "sending", "reply")
            result = self.line.reply(parsed.reply_token, messages)
            crashpoint("after_reply_accepted")
            if result.delivered:
                self._finish(event_id, "sent", "reply", delivery)
                return
            if result.status == "invalid_token" and was_replying:
                # Our earlier attempt used this still-young token: the answer was delivered.
                self._finish(event_id, "sent", "reply", delivery)
                return
            if result.status == "rejected":
                self._apologize(parsed, delivery)
                return
        if committed_method != "push":
            self.store.mark(event_id, "sending", "push")
        result = self.line.push(parsed.user_id, messages, retry_key_for(event_id))
        if result.delivered:
            self._finish(event_id, "sent", "push", delivery)
        elif result.status == "failed":
            raise TransientError(f"messaging api unavailable ({result.http_status})")
        else:
            self._apologize(parsed, delivery)

    def _finish(self, event_id: str, status: str, method: str, delivery: Delivery) -> None:
        """Record the outcome and acknowledge the queue entry in one transaction."""
        self.store.mark(event_id, status, method, also=lambda pipe: self.queue.ack_in(pipe, delivery))
        delivery.acked = True

    def _apologize(self, parsed: ParsedEvent, delivery: Delivery) -> None:
        """LINE refused our messages (a bug on our side): never leave the resident without an answer."""
        assert parsed.user_id is not None
        log.error("answer rejected by the messaging api", extra={"event_id": parsed.event_id})
        self.line.push(parsed.user_id, [text(texts.INTERNAL_ERROR)], retry_key_for(f"error:{parsed.event_id}"))
        self._finish(parsed.event_id, "rejected", "", delivery)
