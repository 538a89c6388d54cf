"""Measure NLU + routing quality and speed (used by `kawasaki-bot nlu eval` and bench/nlu_bench.py).

Two modes:
- held-out set (nlu_data/heldout/heldout.yml): end-to-end through `route()`; top-1 = the routed
  procedure (or "no procedure") equals the expected official name (or null), top-3 = expected
  among the first three candidates;
- cross-validation on nlu_data/ when there is no held-out set: intent-level top-1/top-3 on
  examples each model did not see.
Out-of-scope precision/recall treat "no procedure" (held-out: expected null; CV: out_of_scope
intent) as the positive class.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import StratifiedKFold

from bot.catalog.index import Catalog
from bot.nlu.data import OUT_OF_SCOPE, HeldoutItem, NluData
from bot.nlu.result import NluResult
from bot.routing.router import route


@dataclass
class EvalReport:
    backend: str
    mode: str  # "heldout" | "cv"
    n: int = 0
    top1: float = 0.0
    top3: float = 0.0
    oos_precision: float | None = None
    oos_recall: float | None = None
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    # Held-out only: share of procedure requests answered with one card (no "もしかして"), and
    # how often that single answer is right.
    direct_rate: float | None = None
    direct_precision: float | None = None
    errors: list[dict] = field(default_factory=list)

    def row(self) -> dict:
        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{100 * x:.1f}%"

        return {
            "back end": self.backend, "data": self.mode, "n": self.n, "top-1": pct(self.top1),
            "top-3": pct(self.top3), "OOS precision": pct(self.oos_precision),
            "OOS recall": pct(self.oos_recall), "direct answers": pct(self.direct_rate),
            "direct precision": pct(self.direct_precision),
            "p50 ms": f"{self.p50_ms:.2f}", "p99 ms": f"{self.p99_ms:.2f}",
        }


def _pr(pred: Sequence[bool], gold: Sequence[bool]) -> tuple[float | None, float | None]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    npred, ngold = sum(pred), sum(gold)
    return (tp / npred if npred else None), (tp / ngold if ngold else None)


def latency(fn: Callable[[str], object], texts: Sequence[str], repeat: int = 1) -> tuple[float, float]:
    """p50 and p99 in milliseconds (one warm-up call first)."""
    if not texts:
        return 0.0, 0.0
    fn(texts[0])
    times = []
    for _ in range(repeat):
        for t in texts:
            t0 = time.perf_counter()
            fn(t)
            times.append(time.perf_counter() - t0)
    arr = np.array(times) * 1e3
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def evaluate_heldout(nlu, catalog: Catalog, items: Sequence[HeldoutItem], backend: str = "") -> EvalReport:
    """End-to-end: text -> NLU -> route() compared with the expected official name (or null)."""
    rep = EvalReport(backend=backend or getattr(nlu, "backend", "?"), mode="heldout", n=len(items))
    hits1 = hits3 = 0
    pred_none, gold_none = [], []
    times = []
    direct = decided = direct_ok = asked = 0
    for it in items:
        t0 = time.perf_counter()
        res: NluResult = nlu.parse(it.text)
        dec = route(res, catalog, it.text)
        times.append(time.perf_counter() - t0)
        out = dec.to_json()
        got = out["procedure"]["name"] if out["procedure"] else None
        top3 = [c["name"] for c in out["candidates"][:3]] if out["procedure"] else []
        expected = it.expected
        if expected is not None and catalog.by_name(expected) is not None:
            expected = catalog.by_name(expected).name  # tolerate width/kana differences
        ok1 = got == expected
        ok3 = (expected is None and got is None) or (expected is not None and expected in top3)
        hits1 += ok1
        hits3 += ok3
        if expected is not None:
            asked += 1
        if dec.kind == "procedure":
            decided += 1
            direct += expected is not None
            direct_ok += ok1
        pred_none.append(got is None)
        gold_none.append(expected is None)
        if not ok1:
            rep.errors.append({"text": it.text, "expected": expected, "got": got, "kind": dec.kind,
                               "confidence": round(dec.confidence, 3)})
    rep.top1 = hits1 / max(len(items), 1)
    rep.top3 = hits3 / max(len(items), 1)
    rep.oos_precision, rep.oos_recall = _pr(pred_none, gold_none)
    rep.direct_rate = direct / asked if asked else None
    rep.direct_precision = direct_ok / decided if decided else None
    if times:
        arr = np.array(times) * 1e3
        rep.p50_ms, rep.p99_ms = float(np.percentile(arr, 50)), float(np.percentile(arr, 99))
    return rep


def oof_results(data: NluData, k: int = 5, seed: int = 0) -> list[tuple[str, str, NluResult]]:
    """(text, true intent, NluResult from a model trained without that example), for every example."""
    from bot.nlu.embedded import EmbeddedNlu

    pairs = data.examples()
    texts = [t for t, _ in pairs]
    labels = np.array([i for _, i in pairs])
    _, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    strat = np.where(counts[inv] >= k, inv, -1)
    out: list[tuple[str, str, NluResult] | None] = [None] * len(pairs)
    for train_idx, test_idx in StratifiedKFold(k, shuffle=True, random_state=seed).split(texts, strat):
        fold = NluData(intents={}, synonyms=data.synonyms, lookups=data.lookups, regexes=data.regexes)
        for i in train_idx:
            fold.intents.setdefault(labels[i], []).append(texts[i])
        model = EmbeddedNlu.train(fold)
        for i in test_idx:
            out[i] = (texts[i], str(labels[i]), model.parse(texts[i]))
    return [o for o in out if o is not None]


def evaluate_cv(data: NluData, k: int = 5) -> EvalReport:
    """Intent-level cross-validated accuracy of the embedded NLU (when there is no held-out set)."""
    from bot.nlu.embedded import EmbeddedNlu

    results = oof_results(data, k)
    rep = EvalReport(backend="embedded", mode=f"{k}-fold CV", n=len(results))
    top1 = top3 = 0
    pred_oos, gold_oos = [], []
    for text, gold, res in results:
        names = [r.name for r in res.ranking]
        # An OOS-by-threshold result keeps the model's ranking behind it; top-3 looks at both.
        top1 += res.intent.name == gold
        top3 += gold in names[:3]
        pred_oos.append(res.intent.name == OUT_OF_SCOPE)
        gold_oos.append(gold == OUT_OF_SCOPE)
        if res.intent.name != gold:
            rep.errors.append({"text": text, "expected": gold, "got": res.intent.name,
                               "confidence": round(res.intent.confidence, 3)})
    rep.top1 = top1 / max(len(results), 1)
    rep.top3 = top3 / max(len(results), 1)
    rep.oos_precision, rep.oos_recall = _pr(pred_oos, gold_oos)
    model = EmbeddedNlu.train(data, calibrate=False)
    rep.p50_ms, rep.p99_ms = latency(model.parse, [t for t, _, _ in results])
    return rep

