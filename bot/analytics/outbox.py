"""Analytics outbox: counted in Redis with the turn, copied to SQL in batches.

A turn's analytics events are XADDed to one stream by the same Lua script that commits the
turn (bot/turn_store.py), so they are recorded exactly when the turn is, and a database outage
never delays a resident's answer. A flusher thread in every worker process reads the stream
through a consumer group and inserts batches into `analytics_events`; the row's `outbox_id`
(the stream entry id) is unique, so a batch re-inserted after a crash adds nothing twice.
Entries are acknowledged and deleted only after the insert committed; a dead flusher's
pending entries are claimed by another one after `claim_idle_ms`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy import insert, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.db import Database
from bot.storage.models import AnalyticsEvent

log = logging.getLogger(__name__)

GROUP = "flush"


def stream_key(prefix: str = "kb") -> str:
    return f"{prefix}:analytics"


def encode(name: str, procedure_id: str | None, props: dict, *, user_hash: str, event_id: str,
           at_ms: int) -> str:
    """One outbox entry (no message text: names, ids and small props only)."""
    return json.dumps({"n": name, "p": procedure_id, "u": user_hash, "e": event_id, "t": at_ms, "x": props},
                      ensure_ascii=False, separators=(",", ":"))


def _row(entry_id: str, raw: Any) -> dict | None:
    try:
        data = json.loads(raw)
        return {
            "outbox_id": entry_id,
            "name": str(data["n"])[:64],
            "procedure_id": data.get("p"),
            "user_hash": data.get("u") or "",
            "event_id": data.get("e"),
            "props": data.get("x") or {},
            "created_at": datetime.fromtimestamp(int(data["t"]) / 1000, UTC),
        }
    except (TypeError, ValueError, KeyError):
        log.error("unreadable analytics outbox entry dropped", extra={"entry": entry_id})
        return None


# One statement with one array per column: building a multi-row VALUES list in SQLAlchemy held the
# worker's GIL for milliseconds per batch (~6 % of its CPU), stalling the residents' turns meanwhile.
_PG_INSERT = text(
    "INSERT INTO analytics_events (outbox_id, name, procedure_id, user_hash, event_id, props, created_at) "
    "SELECT * FROM unnest(CAST(:outbox_id AS text[]), CAST(:name AS text[]), CAST(:procedure_id AS text[]), "
    "CAST(:user_hash AS text[]), CAST(:event_id AS text[]), CAST(:props AS json[]), "
    "CAST(:created_at AS timestamptz[])) "
    "ON CONFLICT (outbox_id) DO NOTHING"
)


def _columns(rows: list[dict]) -> dict[str, list]:
    cols: dict[str, list] = {k: [r[k] for r in rows] for k in
                             ("outbox_id", "name", "procedure_id", "user_hash", "event_id", "created_at")}
    cols["props"] = [json.dumps(r["props"], ensure_ascii=False) for r in rows]
    return cols


class AnalyticsFlusher:
    def __init__(self, client: redis.Redis, db: Database, *, prefix: str = "kb", in_process: bool = False,
                 batch: int = 500, block_ms: int = 500, linger_s: float = 0.2,
                 claim_idle_ms: int = 30_000) -> None:
        self.r = client
        self.db = db
        self.key = stream_key(prefix)
        self.in_process = in_process  # the in-process Redis stand-in cannot block: poll instead
        self.batch = batch
        self.block_ms = block_ms
        self.linger_s = linger_s  # let a few turns gather so one INSERT carries many rows
        self.claim_idle_ms = claim_idle_ms
        self._recover = True  # re-read our own pending entries (after a start or a failure)
        self.consumer_id = f"f-{uuid.uuid4().hex[:12]}"
        self._next_claim = 0.0

    def ensure_group(self) -> None:
        try:
            self.r.xgroup_create(self.key, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _insert(self, entries: list[tuple[Any, Any]]) -> None:
        ids: list[Any] = []
        rows: list[dict] = []
        for entry_id, fields in entries:
            ids.append(entry_id)
            if not fields:
                continue  # deleted while pending
            eid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            row = _row(eid, fields.get(b"a", fields.get("a")))
            if row is not None:
                rows.append(row)
        if rows:
            dialect = self.db.engine.dialect.name
            with self.db.engine.begin() as conn:
                if dialect == "postgresql":
                    conn.execute(_PG_INSERT, _columns(rows))
                else:
                    stmt = (sqlite.insert(AnalyticsEvent).on_conflict_do_nothing(index_elements=["outbox_id"])
                            if dialect == "sqlite" else insert(AnalyticsEvent))
                    conn.execute(stmt, rows)
        if ids:
            pipe = self.r.pipeline(transaction=True)
            pipe.xack(self.key, GROUP, *ids)
            pipe.xdel(self.key, *ids)
            pipe.execute()

    def flush_once(self, block: bool = True) -> int:
        """Insert one batch: our own pending entries first, then stale ones, then new ones."""
        entries: list[tuple[Any, Any]] = []
        if self._recover:
            result = self.r.xreadgroup(GROUP, self.consumer_id, {self.key: "0"}, count=self.batch)
            for _stream, items in result or []:
                entries += items
            self._recover = bool(entries)
        now = time.monotonic()
        if not entries and now >= self._next_claim:
            self._next_claim = now + self.claim_idle_ms / 2000
            claimed = self.r.xautoclaim(self.key, GROUP, self.consumer_id, min_idle_time=self.claim_idle_ms,
                                        count=self.batch)
            entries += [e for e in claimed[1] if e]
        if not entries:
            wait = self.block_ms if block and not self.in_process else None
            result = self.r.xreadgroup(GROUP, self.consumer_id, {self.key: ">"}, count=self.batch, block=wait)
            for _stream, items in result or []:
                entries += items
        if entries:
            self._insert(entries)
        return len(entries)

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                self.ensure_group()
                while not stop.is_set():
                    n = self.flush_once()
                    backoff = 0.5
                    if n == 0 and self.in_process:
                        stop.wait(self.block_ms / 1000)
                    elif 0 < n < self.batch:
                        stop.wait(self.linger_s)
            except (redis.RedisError, SQLAlchemyError) as exc:
                self._recover = True
                # Entries stay pending in Redis and are retried: nothing is lost while SQL is down.
                log.warning("analytics flush failed; retrying", extra={"error": type(exc).__name__})
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        with contextlib.suppress(redis.RedisError, SQLAlchemyError):
            self.flush_once(block=False)  # what is left at shutdown

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop,), name="analytics-flusher", daemon=True)
        thread.start()
        return thread
