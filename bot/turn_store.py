"""Per-user conversation state and per-event outboxes in Redis.

A turn is committed atomically (session + suspended form + outbox), fenced by the
partition lease so a consumer that lost its partition cannot overwrite newer
state. Re-processing an event whose turn is already committed re-sends its
outbox instead of computing the turn again: answers are exactly-once in effect.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import redis

from bot.analytics.outbox import stream_key

_COMMIT_LUA = """
-- KEYS: lease, session, formsave, turn, analytics stream
-- ARGV: consumer ('' = unfenced), session_json ('' = delete), session_ttl,
--       formsave_json ('' = keep, '-' = delete), formsave_ttl, messages_json, turn_ttl, user,
--       status, method, analytics_1, analytics_2, ...
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end
if ARGV[4] == '-' then redis.call('DEL', KEYS[3])
elseif ARGV[4] ~= '' then redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[5]) end
redis.call('HSET', KEYS[4], 'status', ARGV[9], 'method', ARGV[10], 'messages', ARGV[6], 'user', ARGV[8])
redis.call('EXPIRE', KEYS[4], ARGV[7])
for i = 11, #ARGV do
  redis.call('XADD', KEYS[5], '*', 'a', ARGV[i])
end
return 1
"""


@dataclass(frozen=True, slots=True)
class TurnRecord:
    status: str  # committed | sending | sent
    messages: list[dict]
    method: str = ""


class FencingError(Exception):
    """This consumer no longer owns the user's partition; another one carries on."""


class TurnStore:
    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "kb",
        session_ttl_s: int,
        form_resume_ttl_s: int,
        turn_ttl_s: int = 2 * 24 * 3600,
    ) -> None:
        self.r = client
        self.prefix = prefix
        self.session_ttl_s = session_ttl_s
        self.form_resume_ttl_s = form_resume_ttl_s
        self.turn_ttl_s = turn_ttl_s
        self._commit = self.r.register_script(_COMMIT_LUA)

    def _k(self, kind: str, ident: str) -> str:
        return f"{self.prefix}:{kind}:{ident}"

    def load_session(self, user_id: str) -> tuple[dict, dict | None]:
        """(session state, suspended form) — the form survives the session for resuming."""
        sess, form = self.r.mget(self._k("sess", user_id), self._k("formsave", user_id))
        return (json.loads(sess) if sess else {}), (json.loads(form) if form else None)

    def turn(self, event_id: str) -> TurnRecord | None:
        return self._record(self.r.hgetall(self._k("turn", event_id)))

    def begin(self, event_id: str, user_id: str) -> tuple[TurnRecord | None, dict, dict | None]:
        """The event's turn record (if any) and the user's session, in one round trip."""
        pipe = self.r.pipeline(transaction=False)
        pipe.hgetall(self._k("turn", event_id))
        pipe.mget(self._k("sess", user_id), self._k("formsave", user_id))
        data, (sess, form) = pipe.execute()
        return self._record(data), (json.loads(sess) if sess else {}), (json.loads(form) if form else None)

    @staticmethod
    def _record(data: dict) -> TurnRecord | None:
        if not data:
            return None
        d = {k.decode(): v.decode() for k, v in data.items()}
        return TurnRecord(d.get("status", ""), json.loads(d.get("messages") or "[]"), d.get("method", ""))

    def commit(
        self,
        *,
        event_id: str,
        user_id: str,
        session: dict | None,
        formsave: dict | bool | None,
        messages: list[dict],
        lease_key: str = "",
        consumer_id: str = "",
        sending: str = "",
        analytics: list[str] | None = None,
    ) -> None:
        """formsave: a dict to store, False to delete, None to leave as is.

        ``sending`` ('reply' or 'push') commits the turn as already being sent that way, which
        saves a round trip before the send; ``analytics`` entries join the outbox atomically.
        """
        if formsave is None:
            form_arg = ""
        elif formsave is False:
            form_arg = "-"
        else:
            form_arg = json.dumps(formsave, ensure_ascii=False)
        ok = self._commit(
            keys=[lease_key or self._k("nolease", "x"), self._k("sess", user_id),
                  self._k("formsave", user_id), self._k("turn", event_id), stream_key(self.prefix)],
            args=[
                consumer_id,
                json.dumps(session, ensure_ascii=False) if session else "",
                self.session_ttl_s,
                form_arg,
                self.form_resume_ttl_s,
                json.dumps(messages, ensure_ascii=False),
                self.turn_ttl_s,
                user_id,
                "sending" if sending else "committed",
                sending,
                *(analytics or ()),
            ],
        )
        if not ok:
            raise FencingError(event_id)

    def mark(self, event_id: str, status: str, method: str = "",
             also: Callable[[redis.client.Pipeline], None] | None = None) -> None:
        """Set the turn's status; ``also`` adds commands to the same transaction (the queue ack)."""
        key = self._k("turn", event_id)
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(key, mapping={"status": status, "method": method})
        if status in ("sent", "rejected"):
            # Only the status is needed from now on (to drop a re-run): do not keep the answer's
            # text in Redis for the record's lifetime (memory, and residents' data).
            pipe.hdel(key, "messages")
        pipe.expire(key, self.turn_ttl_s)
        if also is not None:
            also(pipe)
        pipe.execute()

    def flag_once(self, name: str, ttl_s: int = 3600) -> bool:
        """True the first time a flag is set (e.g. 'told the resident we are retrying')."""
        return bool(self.r.set(self._k("flag", name), "1", nx=True, ex=ttl_s))
