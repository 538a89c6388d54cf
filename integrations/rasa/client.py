"""HTTP client for a Rasa server (`rasa run --enable-api`), mapped to the shared NluResult."""

from __future__ import annotations

import time
from typing import Any

import requests

from bot.nlu.result import IntentScore, NluResult


class NluUnavailable(RuntimeError):
    """The NLU server cannot answer now (down, slow, overloaded, no model loaded).

    The message never contains the user's text: it is logged.
    """


class RasaNlu:
    """Calls `POST {url}/model/parse`. One instance is safe to share between threads."""

    backend = "rasa"

    def __init__(self, url: str, timeout: float = 0.5, session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()

    def parse(self, text: str) -> NluResult:
        started = time.perf_counter()
        body = self._request("POST", "/model/parse", json={"text": text})
        result = to_nlu_result(text, body)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        return NluResult(
            text=result.text,
            intent=result.intent,
            ranking=result.ranking,
            entities=result.entities,
            backend=self.backend,
            extra={**result.extra, "latency_ms": elapsed_ms},
        )

    def health(self) -> dict[str, Any]:
        """Server version and loaded model; `ok` is False (with the reason) instead of raising."""
        try:
            version = self._request("GET", "/version")
            status = self._request("GET", "/status")
        except NluUnavailable as exc:
            return {"ok": False, "url": self.url, "error": str(exc)}
        return {
            "ok": bool(status.get("model_file")),
            "url": self.url,
            "version": version.get("version"),
            "model_file": status.get("model_file"),
            "model_id": status.get("model_id"),
        }

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = self._session.request(method, self.url + path, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise NluUnavailable(f"Rasa {path} timed out after {self.timeout}s") from exc
        except requests.RequestException as exc:
            raise NluUnavailable(f"Rasa {path} unreachable: {type(exc).__name__}") from exc
        # 409 is Rasa's "no model loaded"; 5xx an outage. Any other non-2xx answer is unusable too,
        # and the caller's only sensible reaction is the same: use another NLU.
        if resp.status_code != 200:
            raise NluUnavailable(f"Rasa {path} answered HTTP {resp.status_code}")
        try:
            body = resp.json()
        except ValueError as exc:
            raise NluUnavailable(f"Rasa {path} answered malformed JSON") from exc
        if not isinstance(body, dict):
            raise NluUnavailable(f"Rasa {path} answered unexpected JSON")
        return body


# The embedded NLU's name for "no procedure asked" (bot.nlu.data.OUT_OF_SCOPE).
OUT_OF_SCOPE = "out_of_scope"
# Rasa's FallbackClassifier names low-confidence messages so; the bot calls that out of scope.
RASA_FALLBACK_INTENT = "nlu_fallback"


def _intent_name(name: Any) -> str:
    name = str(name or "")
    return OUT_OF_SCOPE if name in ("", RASA_FALLBACK_INTENT) else name


def to_nlu_result(text: str, body: dict[str, Any]) -> NluResult:
    """Map a `/model/parse` answer. No intent (or Rasa's `nlu_fallback`) maps to `out_of_scope`."""
    raw_intent = body.get("intent") or {}
    intent = IntentScore(_intent_name(raw_intent.get("name")), float(raw_intent.get("confidence") or 0.0))
    ranking = [
        IntentScore(str(r["name"]), float(r.get("confidence") or 0.0))
        for r in body.get("intent_ranking") or ()
        if r.get("name") and r["name"] != RASA_FALLBACK_INTENT
    ]
    ranking.sort(key=lambda s: s.confidence, reverse=True)
    # The contract: `ranking` starts with `intent`.
    ranking = [intent, *(r for r in ranking if r.name != intent.name)]
    entities = tuple(
        {
            "entity": e.get("entity"),
            "value": e.get("value"),
            "start": e.get("start"),
            "end": e.get("end"),
            "confidence": e.get("confidence_entity"),
            "extractor": e.get("extractor"),
            **({"role": e["role"]} if e.get("role") else {}),
            **({"group": e["group"]} if e.get("group") else {}),
        }
        for e in body.get("entities") or ()
    )
    return NluResult(text=text, intent=intent, ranking=tuple(ranking), entities=entities, backend="rasa")
