"""Pick the NLU back end: Rasa when RASA_URL is set, else the embedded model."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

from bot.nlu.data import OUT_OF_SCOPE, load_nlu_data
from bot.nlu.embedded import DEFAULT_CACHE_DIR, DEFAULT_DATA_DIR, EmbeddedNlu
from bot.nlu.result import IntentScore, NluResult


class Nlu(Protocol):
    def parse(self, text: str) -> NluResult: ...


class KeywordOnlyNlu:
    """Stand-in while nlu_data/ has no intents: no opinion, so routing relies on keyword search."""

    backend = "none"

    def parse(self, text: str) -> NluResult:
        intent = IntentScore(OUT_OF_SCOPE, 0.0)
        return NluResult(text=text, intent=intent, ranking=(intent,), backend=self.backend,
                         extra={"no_model": True})


_lock = threading.Lock()
_embedded: dict[tuple[str, str], EmbeddedNlu] = {}


def embedded_nlu(data_dir: Path | str = DEFAULT_DATA_DIR,
                 cache_dir: Path | str | None = DEFAULT_CACHE_DIR) -> EmbeddedNlu | KeywordOnlyNlu:
    """The embedded model for `data_dir` (trained once per data version, cached on disk)."""
    key = (str(Path(data_dir).resolve()), str(cache_dir))
    with _lock:
        model = _embedded.get(key)
        if model is None:
            data = load_nlu_data(data_dir)
            if len(data.intents) < 2:
                return KeywordOnlyNlu()
            model = EmbeddedNlu.load_or_train(data_dir, cache_dir)
            _embedded[key] = model
        return model


def rasa_nlu(url: str, timeout: float = 2.0) -> Nlu:
    from integrations.rasa.client import RasaNlu  # lazy: only needed when Rasa is used

    return RasaNlu(url, timeout=timeout)


def get_nlu(data_dir: Path | str | None = None, rasa_url: str | None = None,
            cache_dir: Path | str | None = DEFAULT_CACHE_DIR) -> Nlu:
    """Rasa when `rasa_url` (or RASA_URL) is set, else the embedded NLU trained from `data_dir`."""
    url = rasa_url if rasa_url is not None else os.environ.get("RASA_URL")
    if url:
        return rasa_nlu(url)
    return embedded_nlu(data_dir or DEFAULT_DATA_DIR, cache_dir)
