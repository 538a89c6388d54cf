"""Bad, missing and mismatched X-Line-Signature: always 400, and nothing at all is processed.

"Nothing processed" is checked where it would show: no stream entry (queue backlog), no
`seen:<id>` key (a later genuine delivery must not be dropped as a duplicate), and no Messaging
API request at the LINE emulator, while the worker is running and would process anything queued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import time

import pytest
import requests
from hostile_schema_gen import SchemaStrategies, encode, mutate, raw_junk
from hostile_stack import SECRET
from hostile_tally import timed, tried
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from integrations.line.webhook_sender import sign

HOSTILE = settings(derandomize=True, deadline=None, database=None, max_examples=300,
                   suppress_health_check=list(HealthCheck), print_blob=False)
S = SchemaStrategies()
# The worker threads use `random` (lease rebalancing) while hypothesis draws, and the schema strategies
# have long reprs: neither is a problem of the inputs.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning",
                                        "ignore::hypothesis.errors.HypothesisDeprecationWarning")

BAD_KINDS = ["missing", "empty", "random", "other_body", "other_secret", "truncated", "unpadded", "hex",
             "lowercase", "non_ascii", "case_changed_secret", "empty_secret", "sig_plus_junk"]


def bad_signature(kind: str, body: bytes, rnd: bytes) -> str | None:
    """A signature LINE would never send for `body` (None: no header at all)."""
    good = sign(body, SECRET)
    if kind == "missing":
        return None
    if kind == "empty":
        return ""
    if kind == "random":
        return base64.b64encode(hashlib.sha256(rnd).digest()).decode()
    if kind == "other_body":
        return sign(body + b" ", SECRET)
    if kind == "other_secret":
        return sign(body, SECRET + "x")
    if kind == "case_changed_secret":
        return sign(body, SECRET.upper())
    if kind == "empty_secret":
        return sign(body, "")
    if kind == "truncated":
        return good[: max(0, len(good) - 1 - rnd[0] % 40)]
    if kind == "unpadded":
        return good.rstrip("=")
    if kind == "hex":
        return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    if kind == "lowercase":
        return good.lower() if good.lower() != good else good.upper()
    if kind == "non_ascii":
        return good[:10] + "é署名\u200d" + good[10:]
    return good + "A"  # sig_plus_junk


bodies = st.one_of(
    S.body(st.lists(S.event(), max_size=4)).map(lambda b: ("valid", encode(b))),
    S.body(st.lists(S.event(), min_size=1, max_size=3)).flatmap(mutate).map(lambda m: ("mutated", encode(m[0]))),
    raw_junk().filter(lambda h: len(h.body) < 900_000).map(lambda h: (h.family, h.body)),
)


def _nothing_processed(hstack, api_before: int) -> None:
    assert hstack.services.queue.backlog() == 0, "a badly signed body reached the queue"
    assert hstack.seen_keys() == 0, "a badly signed body marked an event id as seen"
    assert hstack.api_requests() == api_before, "a badly signed body caused a Messaging API call"


def test_bad_signatures_are_rejected_and_nothing_is_processed(hstack) -> None:
    """Test client, high volume: every body family x every kind of bad signature."""
    hstack.redis.flushdb()
    hstack.services.queue.ensure_groups()
    api_before = hstack.api_requests()

    @HOSTILE
    @given(case=bodies, rnd=st.binary(min_size=8, max_size=8))
    def run(case, rnd) -> None:
        family, body = case
        tried(f"badly signed body: {family}")
        for kind in BAD_KINDS:  # every body with every kind of bad signature
            signature = bad_signature(kind, body, rnd)
            note(f"family={family} kind={kind} signature={signature!r} body={body[:300]!r}")
            tried(f"bad signature: {kind}")
            if kind == "non_ascii":
                # Werkzeug's test client sends str headers as latin-1; the socket test sends UTF-8 bytes.
                signature = signature.encode("utf-8").decode("latin-1")
            resp = hstack.post(body, signature=signature)
            assert resp.status_code == 400, (kind, resp.status_code, resp.get_data()[:200])
        assert hstack.services.queue.backlog() == 0
        assert hstack.seen_keys() == 0

    with timed("bad signatures (test client)"):
        run()
        time.sleep(1.0)  # anything that slipped into the queue would have reached the emulator by now
        _nothing_processed(hstack, api_before)
    hstack.assert_still_answers()


def test_bad_signatures_over_http_and_raw_headers(hstack) -> None:
    """The real server: bad signatures over HTTP, plus header bytes the test client cannot send."""
    hstack.redis.flushdb()
    hstack.services.queue.ensure_groups()
    api_before = hstack.api_requests()
    session = requests.Session()

    @settings(HOSTILE, max_examples=40)
    @given(payload=S.body(st.lists(S.event(), min_size=1, max_size=3)), rnd=st.binary(min_size=8, max_size=8))
    def run(payload, rnd) -> None:
        body = encode(payload)
        for kind in BAD_KINDS:
            signature = bad_signature(kind, body, rnd)
            note(f"kind={kind} signature={signature!r} body={body[:300]!r}")
            tried(f"bad signature over HTTP: {kind}")
            headers = {"Content-Type": "application/json"}
            if signature is not None:
                headers["X-Line-Signature"] = signature.encode("utf-8")  # type: ignore[assignment]
            resp = session.post(hstack.callback_url, data=body, headers=headers, timeout=10)
            assert resp.status_code == 400, (kind, resp.status_code, resp.text[:200])

    with timed("bad signatures (HTTP)"):
        run()
        # Raw header bytes: invalid UTF-8, a NUL, a valid signature split across two headers.
        body = encode({"destination": "U" + "0" * 32, "events": [hstack.sender.events.text("U" + "1" * 32, "x")]})
        good = sign(body, SECRET).encode()
        variants = [b"\xff\xfe" + good, good[:5] + b"\x00" + good[5:], good + b"\xc3", "署名".encode()]
        for value in variants:
            status = _raw_post(hstack, body, [b"X-Line-Signature: " + value])
            tried("bad signature: raw header bytes")
            assert status == 400, (value, status)
        time.sleep(1.0)
        _nothing_processed(hstack, api_before)
    hstack.assert_still_answers()


def _raw_post(hstack, body: bytes, extra_headers: list[bytes]) -> int:
    head = [b"POST /callback HTTP/1.1", b"Host: 127.0.0.1", b"Content-Type: application/json",
            b"Content-Length: " + str(len(body)).encode(), b"Connection: close", *extra_headers]
    with socket.create_connection((hstack.host, hstack.port), timeout=10) as sock:
        sock.sendall(b"\r\n".join(head) + b"\r\n\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])
