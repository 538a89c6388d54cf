"""Every routing threshold, in one place.

Chosen on data with `kawasaki-bot nlu tune` (bot/routing/tuning.py): a grid search over
out-of-fold NLU predictions of nlu_data/ (each example scored by a model that did not see it),
maximizing the routing utility defined there (a wrong single answer costs more than offering
candidates). Re-run it when the data changes much and copy the printed values here.

Current values: `kawasaki-bot nlu tune --data nlu_data/nlu` after the training data grew to 2,726
examples (65 intents; enriched catalog keywords): mean utility 0.871 (previous values) -> 0.881.
On out-of-fold predictions of two 5-fold seeds: routed top-1 92.4% -> 93.0%, top-3 94.5% -> 95.0%,
"no procedure" precision/recall 95.5%/79.7% -> 93.7%/83.8% (the data's out_of_scope examples are
deliberately hard: they share words with procedures).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    # A single procedure is answered when its combined score reaches `confident` and leads the
    # runner-up by `margin`.
    confident: float = 0.7
    margin: float = 0.3
    # Below `candidate` nothing looks like a procedure: answer "no procedure".
    candidate: float = 0.3
    # A dialogue act at or above this confidence wins over a non-confident procedure; an
    # out_of_scope at or above it raises the bar for candidates to `oos_candidate`.
    act: float = 0.7
    oos_candidate: float = 0.5
    # Weight of the keyword-search cosine in the combined score (noisy-OR with the NLU probability).
    keyword_weight: float = 0.7
    # How many candidates to return (the route CLI contract allows up to 5).
    max_candidates: int = 5


THRESHOLDS = Thresholds()
