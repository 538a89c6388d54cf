"""Memory does not grow under a few thousand hostile requests (in-process app and worker, test client)."""

from __future__ import annotations

import gc
import json
import logging
import random
import time
import tracemalloc

from hostile_schema_gen import encode, nested
from hostile_stack import SECRET
from hostile_tally import timed, tried

from integrations.line.webhook_sender import sign

ROUNDS = 3000
WARMUP = 300
TRACED_GROWTH_LIMIT = 2 * 1024 * 1024  # bytes still allocated after the run, beyond the warm-up level
RSS_GROWTH_LIMIT = 40 * 1024 * 1024


def _rss() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _hostile_requests(hstack, n: int, seed: int):
    """(family, body, signature or None): a deterministic mix of requests that must not leave a trace."""
    rnd = random.Random(seed)
    user = "U" + "ab" * 16
    for i in range(n):
        family = "too_large" if i % 100 == 99 else rnd.choice([
            "bad_signature", "missing_signature", "non_json", "invalid_utf8", "deep_nesting", "unknown_event",
            "lone_surrogates"])
        event = {"type": "hologram", "webhookEventId": f"01MEM{seed:04d}{i:017d}", "timestamp": 1,
                 "mode": "active", "source": {"type": "user", "userId": user},
                 "deliveryContext": {"isRedelivery": False}}
        if family in ("bad_signature", "missing_signature"):
            body = encode({"destination": "U" + "0" * 32,
                           "events": [dict(event, type="message", message={"type": "text", "text": "x" * i})]})
            yield family, body, (None if family == "missing_signature" else sign(body, "wrong" + str(i)))
            continue
        if family == "non_json":
            body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 2000)))
        elif family == "invalid_utf8":
            body = b'{"events":[{"type":"message","text":"\xff' + str(i).encode() + b'"}]}'
        elif family == "deep_nesting":
            body = nested(rnd.choice([100, 980, 5000, 50_000]))
        elif family == "unknown_event":
            body = encode({"destination": "U" + "0" * 32, "events": [event]})
        elif family == "lone_surrogates":
            body = json.dumps({"events": [dict(event, text="\ud800" * 10)]}).encode()
        else:
            body = b'{"events":[' + b" " * (5 * 1024 * 1024) + b"]}"
        yield family, body, sign(body, SECRET)


def _run(hstack, n: int, seed: int) -> None:
    for family, body, signature in _hostile_requests(hstack, n, seed):
        resp = hstack.post(body, signature=signature)
        assert resp.status_code < 500, (family, resp.status_code, body[:200])
        tried(f"memory run: {family}")


def test_memory_does_not_grow_under_hostile_requests(hstack) -> None:
    api_before = hstack.api_requests()
    logging.disable(logging.CRITICAL)  # pytest keeps every captured log record; that is not the app's memory
    try:
        _run(hstack, WARMUP, seed=1)
        hstack.wait_drained()
        gc.collect()
        tracemalloc.start()
        rss_before = _rss()
        traced_before, _ = tracemalloc.get_traced_memory()
        started = time.monotonic()
        with timed("memory run"):
            _run(hstack, ROUNDS, seed=2)
            hstack.wait_drained()
        elapsed = time.monotonic() - started
        gc.collect()
        traced_after, traced_peak = tracemalloc.get_traced_memory()
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
        rss_after = _rss()
    finally:
        logging.disable(logging.NOTSET)
    growth = traced_after - traced_before
    top = "\n".join(str(s) for s in snapshot.statistics("lineno")[:8])
    print(f"\nmemory: {ROUNDS} hostile requests in {elapsed:.1f} s; traced {traced_before/1e6:.2f} -> "
          f"{traced_after/1e6:.2f} MB (peak {traced_peak/1e6:.1f} MB); RSS {rss_before/1e6:.1f} -> {rss_after/1e6:.1f} MB")
    assert growth < TRACED_GROWTH_LIMIT, f"Python heap grew by {growth} bytes; largest allocations:\n{top}"
    assert rss_after - rss_before < RSS_GROWTH_LIMIT, (rss_before, rss_after)
    # None of these requests may reach LINE: the emulator-side count stays where it was.
    assert hstack.api_requests() == api_before
    hstack.assert_still_answers()
