"""Every routing threshold, in one place.

Chosen on data with `kawasaki-bot nlu tune` (bot/routing/tuning.py): a grid search over
out-of-fold NLU predictions of nlu_data/ (each example scored by a model that did not see it),
maximizing the routing utility defined there (a wrong single answer costs more than offering
candidates). Re-run it when the data changes much and copy the printed values here.

Current values: `kawasaki-bot nlu tune --data nlu_data/nlu` after issue #3 (2,888 examples, 64
intents; an out-of-scope decision made by the NLU thresholds now reports a milder confidence, see
`EmbeddedNlu._threshold_oos_confidence`): mean utility 0.876 (previous values) -> 0.882. On the
out-of-fold predictions of 5-fold seed 1 (not used for tuning): routed top-1 92.7% -> 93.1%, top-3
95.3% -> 95.7%, "no procedure" precision/recall 95.9%/82.8% -> 95.8%/84.8%.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    # A single procedure is answered when its combined score reaches `confident` and leads the
    # runner-up by `margin`.
    confident: float = 0.8
    margin: float = 0.3
    # Below `candidate` nothing looks like a procedure: answer "no procedure".
    candidate: float = 0.3
    # A dialogue act at or above this confidence wins over a non-confident procedure; an
    # out_of_scope at or above it raises the bar for candidates to `oos_candidate`.
    act: float = 0.5
    oos_candidate: float = 0.7
    # Weight of the keyword-search cosine in the combined score (noisy-OR with the NLU probability).
    keyword_weight: float = 1.0
    # How many candidates to return (the route CLI contract allows up to 5).
    max_candidates: int = 5


THRESHOLDS = Thresholds()
