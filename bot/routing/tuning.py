"""Choose the routing thresholds on data (`kawasaki-bot nlu tune`).

Each training example is scored by an NLU model that did not see it (out-of-fold, pooled over
several k-fold seeds so the choice does not follow one split's luck), routed
with candidate thresholds, and scored with UTILITY below; the grid point with the best mean
utility wins. Examples of dialogue acts and out_of_scope expect "no procedure".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from bot.catalog.index import Catalog
from bot.nlu.data import NluData, proc_id
from bot.nlu.result import NluResult
from bot.routing.router import Evidence, decide, gather
from bot.routing.thresholds import THRESHOLDS, Thresholds

# Outcome -> utility. A confidently wrong procedure is the worst outcome; offering the right
# procedure among candidates is good but costs the resident a tap.
UTILITY = {
    ("proc", "procedure_right"): 1.0,
    ("proc", "procedure_wrong"): -1.0,
    ("proc", "candidates_hit"): 0.5,
    ("proc", "candidates_miss"): -0.25,
    ("proc", "none"): -0.5,
    ("none", "none"): 1.0,
    ("none", "candidates"): -0.25,
    ("none", "procedure"): -1.0,
}
GRID = {
    "keyword_weight": (0.7, 0.9, 1.0),
    "confident": (0.5, 0.6, 0.7, 0.8, 0.9),
    "margin": (0.0, 0.15, 0.3),
    "candidate": (0.1, 0.2, 0.3, 0.4),
    "oos_candidate": (0.3, 0.5, 0.7),
    "act": (0.5, 0.7, 0.9),
}


@dataclass
class TuneResult:
    thresholds: Thresholds
    utility: float
    baseline_utility: float
    n: int


def outcome(expected: str | None, kind: str, got: str | None, cand_ids: list[str]) -> tuple[str, str]:
    if expected is None:
        return ("none", kind)
    if kind == "procedure":
        return ("proc", "procedure_right" if got == expected else "procedure_wrong")
    if kind == "candidates":
        return ("proc", "candidates_hit" if expected in cand_ids else "candidates_miss")
    return ("proc", "none")


def utility_of(items: list[tuple[str, str | None, dict[float, Evidence]]], catalog: Catalog,
               t: Thresholds) -> float:
    total = 0.0
    for text, expected, evidence in items:
        dec = decide(evidence[t.keyword_weight], catalog, text, t)
        got = dec.procedure.id if dec.procedure else None
        total += UTILITY[outcome(expected, dec.kind, got, [c.id for c in dec.candidates])]
    return total / max(len(items), 1)


def tune(results: list[tuple[str, str, NluResult]], catalog: Catalog) -> TuneResult:
    """Grid-search THRESHOLDS on out-of-fold NLU results (see evaluation.oof_results)."""
    items = []
    for text, intent, res in results:
        pid = proc_id(intent)
        if pid is not None and pid not in catalog:
            continue  # an intent without a catalog entry cannot be routed; not the router's fault
        evidence = {w: gather(res, catalog, text, replace(THRESHOLDS, keyword_weight=w))
                    for w in GRID["keyword_weight"]}
        items.append((text, pid, evidence))
    if THRESHOLDS.keyword_weight not in GRID["keyword_weight"]:
        raise ValueError("THRESHOLDS.keyword_weight must be a grid value")
    baseline = utility_of(items, catalog, THRESHOLDS)
    best_t, best_u = THRESHOLDS, baseline
    keys = list(GRID)
    for values in itertools.product(*(GRID[k] for k in keys)):
        t = replace(THRESHOLDS, **dict(zip(keys, values, strict=True)))
        if t.candidate > t.confident or t.oos_candidate < t.candidate:
            continue
        u = utility_of(items, catalog, t)
        if u > best_u + 1e-9:
            best_t, best_u = t, u
    return TuneResult(best_t, best_u, baseline, len(items))


def tune_on_data(data: NluData, catalog: Catalog, k: int = 5, seeds: tuple[int, ...] = (0, 1)) -> TuneResult:
    """Tune on the out-of-fold predictions of several k-fold splits, pooled: one split's
    thresholds follow the luck of its folds (grid optimum changed between seeds 0 and 1)."""
    from bot.nlu.evaluation import oof_results

    return tune([r for seed in seeds for r in oof_results(data, k, seed=seed)], catalog)
