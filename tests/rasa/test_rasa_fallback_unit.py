"""RasaNlu's failure modes and FallbackNlu's circuit breaker, against real sockets that fail
(no Rasa needed): a closed port, a server that never answers, a server answering 500."""

from __future__ import annotations

import http.server
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from bot.nlu.fallback import FallbackNlu
from bot.nlu.result import IntentScore, NluResult
from integrations.rasa.client import NluUnavailable, RasaNlu, to_nlu_result

SECRET_TEXT = "住民票を取りたい 山田花子 090-1234-5678"


class EchoNlu:
    """A real (trivial) NLU standing in for the embedded one: counts its calls."""

    backend = "embedded"

    def __init__(self) -> None:
        self.calls = 0

    def parse(self, text: str) -> NluResult:
        self.calls += 1
        intent = IntentScore("out_of_scope", 0.0)
        return NluResult(text=text, intent=intent, ranking=(intent,), backend=self.backend)


class CountingNlu:
    """Wraps a real NLU and counts how often it is tried."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls = 0

    def parse(self, text: str) -> NluResult:
        self.calls += 1
        return self.inner.parse(text)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the block ends: connections are refused


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    srv.close()


@pytest.fixture
def http_server() -> Iterator[tuple[str, dict]]:
    """A tiny HTTP server whose status/body the test sets."""
    state: dict = {"status": 500, "body": b'{"error": "boom"}'}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(state["status"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state["body"])

        do_GET = do_POST = _answer

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()
    httpd.server_close()


def test_connection_refused_is_unavailable() -> None:
    with pytest.raises(NluUnavailable) as info:
        RasaNlu(f"http://127.0.0.1:{_closed_port()}").parse(SECRET_TEXT)
    assert "住民票" not in str(info.value)


def test_a_silent_server_times_out_within_the_timeout(silent_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(NluUnavailable, match="timed out"):
        RasaNlu(silent_server, timeout=0.3).parse(SECRET_TEXT)
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(("status", "body"), [(500, b"{}"), (503, b"down"), (409, b"{}"), (200, b"not json")])
def test_unusable_answers_are_unavailable(http_server, status: int, body: bytes) -> None:
    url, state = http_server
    state.update(status=status, body=body)
    with pytest.raises(NluUnavailable):
        RasaNlu(url).parse(SECRET_TEXT)


def test_health_reports_instead_of_raising() -> None:
    health = RasaNlu(f"http://127.0.0.1:{_closed_port()}").health()
    assert health["ok"] is False and "unreachable" in health["error"]


def test_parse_answer_mapping_keeps_ranking_order_and_entity_offsets() -> None:
    body = {
        "text": "中原区で住民票",
        "intent": {"name": "b", "confidence": 0.7},
        "intent_ranking": [{"name": "a", "confidence": 0.1}, {"name": "b", "confidence": 0.7},
                           {"name": "c", "confidence": 0.2}],
        "entities": [{"entity": "ward", "start": 0, "end": 3, "value": "中原区",
                      "confidence_entity": 0.9, "extractor": "DIETClassifier"}],
    }
    result = to_nlu_result("中原区で住民票", body)
    assert [s.name for s in result.ranking] == ["b", "c", "a"]
    assert result.ranking[0] == result.intent
    (entity,) = result.entities
    assert result.text[entity["start"] : entity["end"]] == entity["value"]
    assert entity["confidence"] == 0.9


def test_an_answer_without_intent_is_out_of_scope() -> None:
    for body in ({"intent": None, "entities": []},
                 {"intent": {"name": "nlu_fallback", "confidence": 0.7},
                  "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.7},
                                     {"name": "a", "confidence": 0.2}]}):
        result = to_nlu_result("えーと", body)
        assert result.intent.name == "out_of_scope"
        assert result.ranking[0].name == "out_of_scope"
        assert "nlu_fallback" not in [s.name for s in result.ranking]


def test_fallback_trips_once_logs_once_and_retries_after_the_period(caplog) -> None:
    now = [1000.0]
    primary = CountingNlu(RasaNlu(f"http://127.0.0.1:{_closed_port()}", timeout=0.3))
    embedded = EchoNlu()
    nlu = FallbackNlu(primary, embedded, retry_after=5.0, clock=lambda: now[0])
    assert nlu.status()["state"] == "ok"

    with caplog.at_level(logging.INFO, logger="bot.nlu.fallback"):
        first = nlu.parse(SECRET_TEXT)
        for _ in range(5):
            nlu.parse(SECRET_TEXT)  # inside the retry period: the primary is not tried
    assert first.backend == "embedded"
    assert primary.calls == 1 and embedded.calls == 6
    status = nlu.status()
    assert status["backend"] == "rasa" and status["state"] == "degraded" and status["since"]

    now[0] += 5.1
    with caplog.at_level(logging.INFO, logger="bot.nlu.fallback"):
        nlu.parse(SECRET_TEXT)  # retried, still down: no second warning
    assert primary.calls == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert all("住民票" not in r.getMessage() and "090" not in r.getMessage() for r in caplog.records)


def test_fallback_recovers_when_the_primary_answers_again(http_server) -> None:
    url, state = http_server
    now = [0.0]
    nlu = FallbackNlu(RasaNlu(url), EchoNlu(), retry_after=1.0, clock=lambda: now[0])
    state.update(status=503, body=b"{}")
    assert nlu.parse("住民票").backend == "embedded"
    down_since = nlu.status()["since"]
    assert nlu.status()["state"] == "degraded"

    state.update(status=200, body=b'{"intent": {"name": "x", "confidence": 0.9}, "entities": []}')
    assert nlu.parse("住民票").backend == "embedded"  # still inside the retry period
    now[0] += 1.5
    result = nlu.parse("住民票")
    assert result.backend == "rasa" and result.intent == IntentScore("x", 0.9)
    assert nlu.status()["state"] == "ok" and nlu.status()["since"] >= down_since


def test_only_one_thread_probes_a_dead_primary(silent_server: str) -> None:
    primary = CountingNlu(RasaNlu(silent_server, timeout=0.5))
    nlu = FallbackNlu(primary, EchoNlu(), retry_after=0.0)
    nlu.parse("a")  # trips the breaker
    assert primary.calls == 1
    # retry_after=0: the next messages may probe, but only one at a time while it hangs.
    # Without that guard all 8 would wait on the dead server (8 more calls).
    barrier = threading.Barrier(8)

    def parse() -> None:
        barrier.wait()
        nlu.parse("b")

    threads = [threading.Thread(target=parse) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert primary.calls <= 1 + 3
