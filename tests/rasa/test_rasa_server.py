"""A real `rasa run --enable-api` server trained from nlu_data/: parsing through RasaNlu, and
FallbackNlu falling back to the embedded NLU while the server is down, then recovering."""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

import pytest
import yaml

from bot.nlu.fallback import FallbackNlu
from bot.nlu.result import IntentScore, NluResult
from integrations.rasa.client import RasaNlu
from integrations.rasa.components.segmenter import Segmenter

pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(1500)]


def _examples(data_dir: Path) -> dict[str, list[str]]:
    """Training examples per intent, entity markup removed: [中原区](ward) -> 中原区."""
    import re

    out: dict[str, list[str]] = {}
    for f in sorted(data_dir.rglob("*.yml")):
        for item in (yaml.safe_load(f.read_text()) or {}).get("nlu") or ():
            if "intent" in item:
                lines = [ln.strip()[2:] for ln in str(item["examples"]).splitlines() if ln.strip()]
                clean = [re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", ln) for ln in lines]
                out.setdefault(item["intent"], []).extend(c for c in clean if c)
    return out


def _half_width(text: str) -> str:
    """What a resident's phone may send: full-width digits/latin, half-width katakana."""
    import unicodedata

    kana = "".join(chr(c) for c in range(0xFF66, 0xFF9E))
    to_half = {unicodedata.normalize("NFKC", h): h for h in kana}
    out = []
    for ch in text:
        if "0" <= ch <= "9" or "a" <= ch.lower() <= "z":
            out.append(chr(ord(ch) + 0xFEE0))
        else:
            out.append(to_half.get(ch, ch))
    return "".join(out)


class EmbeddedOrTrivial:
    """The embedded NLU when importable, else a trivial real NLU (training-example lookup)."""

    def __init__(self, examples: dict[str, list[str]]) -> None:
        self.inner = None
        self.backend = "embedded"
        try:
            from bot.nlu.embedded import EmbeddedNlu  # noqa: F401
            from bot.nlu.service import embedded_nlu

            self.inner = embedded_nlu()
        except ImportError:
            self.lookup = {t: i for i, ts in examples.items() for t in ts}

    def parse(self, text: str) -> NluResult:
        if self.inner is not None:
            return self.inner.parse(text)
        name = self.lookup.get(text, "out_of_scope")
        intent = IntentScore(name, 1.0 if name != "out_of_scope" else 0.0)
        return NluResult(text=text, intent=intent, ranking=(intent,), backend=self.backend)


@pytest.fixture(scope="module")
def examples(rasa_data_dir: Path) -> dict[str, list[str]]:
    return _examples(rasa_data_dir)


def test_parse_maps_to_nlu_results_with_the_trained_intents(rasa_server, examples) -> None:
    nlu = RasaNlu(rasa_server.url, timeout=5.0)
    texts = [(ts[0], intent) for intent, ts in sorted(examples.items())]
    results = [(nlu.parse(text), intent) for text, intent in texts]
    for result, _ in results:
        assert result.backend == "rasa"
        assert result.intent.name in examples
        assert 0.0 < result.intent.confidence <= 1.0
        assert result.ranking[0] == result.intent
        confidences = [s.confidence for s in result.ranking]
        assert confidences == sorted(confidences, reverse=True)
    # Training examples come back with their own intent (the model learned the data).
    correct = sum(r.intent.name == intent for r, intent in results)
    assert correct / len(results) >= 0.9, [(r.text, r.intent.name, i) for r, i in results if r.intent.name != i]


def test_half_width_and_full_width_input_gets_the_same_intent(rasa_server, examples) -> None:
    nlu = RasaNlu(rasa_server.url, timeout=5.0)
    pairs = [(ts[0], _half_width(ts[0])) for _, ts in sorted(examples.items())]
    pairs = [(a, b) for a, b in pairs if a != b]
    assert pairs, "no example has characters with a half-/full-width form"
    same = sum(nlu.parse(a).intent.name == nlu.parse(b).intent.name for a, b in pairs)
    assert same / len(pairs) >= 0.9


def test_served_tokens_and_entities_use_offsets_into_the_original_text(rasa_server) -> None:
    import requests

    text = "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞの住所変更を　中原区でしたい！"
    body = requests.post(rasa_server.url + "/model/parse", json={"text": text}, timeout=5).json()
    expected = [[w.start, w.end] for w in Segmenter("B").words(text)]
    assert body["text_tokens"] == expected
    for entity in body["entities"]:
        assert 0 <= entity["start"] < entity["end"] <= len(text)
        # An entity covers whole tokens of the original text.
        assert any(s == entity["start"] for s, _ in expected) and any(e == entity["end"] for _, e in expected)


def test_health_reports_the_loaded_model(rasa_server) -> None:
    health = RasaNlu(rasa_server.url, timeout=5.0).health()
    assert health["ok"] is True
    assert health["version"] == "3.6.21"
    assert health["model_file"] == rasa_server.model.name


def test_latency_and_memory_are_reported(rasa_server, examples, record_property) -> None:
    nlu = RasaNlu(rasa_server.url, timeout=5.0)
    texts = [t for ts in examples.values() for t in ts[:3]][:150]
    latencies = []
    for text in texts:
        started = time.perf_counter()
        nlu.parse(text)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    rss_mb = rasa_server.rss_kb() / 1024
    record_property("rasa_parse_p50_ms", round(p50, 1))
    record_property("rasa_parse_p99_ms", round(p99, 1))
    record_property("rasa_rss_mb", round(rss_mb))
    record_property("rasa_startup_s", round(rasa_server.startup_seconds, 1))
    print(f"\nrasa parse p50={p50:.1f} ms p99={p99:.1f} ms rss={rss_mb:.0f} MB "
          f"startup={rasa_server.startup_seconds:.0f} s")
    # The client's default timeout (0.5 s) must cover normal parses.
    assert p50 < 500


def test_fallback_uses_embedded_while_rasa_is_down_and_recovers(rasa_server, examples, caplog) -> None:
    embedded = EmbeddedOrTrivial(examples)
    nlu = FallbackNlu(RasaNlu(rasa_server.url, timeout=0.5), embedded, retry_after=1.0)
    text = sorted(examples.items())[0][1][0]

    assert nlu.parse(text).backend == "rasa"
    assert nlu.status()["state"] == "ok"

    rasa_server.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="bot.nlu.fallback"):
            down = [nlu.parse(text) for _ in range(3)]
        assert {r.backend for r in down} == {embedded.backend}
        assert all(r.intent.name for r in down)
        status = nlu.status()
        assert status["state"] == "degraded" and status["backend"] == "rasa"
        outage_logs = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(outage_logs) == 1 and text not in outage_logs[0].getMessage()
        # Inside the retry period a message does not wait on the dead server.
        started = time.perf_counter()
        nlu.parse(text)
        assert time.perf_counter() - started < 0.5
    finally:
        rasa_server.start()

    time.sleep(1.1)  # past retry_after
    recovered = nlu.parse(text)
    assert recovered.backend == "rasa"
    assert nlu.status()["state"] == "ok"
