"""Decide what a text asks for: one procedure, a few candidates, or no procedure.

Pure: (NluResult, Catalog, text) -> RouteDecision. Evidence from two sources is combined per
procedure with a noisy-OR, `1 - (1 - p_nlu) * (1 - w * keyword_cosine)`:
- the NLU's calibrated probability of `proc_<id>` (knows the phrasing residents use),
- the catalog keyword search (knows all procedures, including those without training data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.catalog.index import Catalog
from bot.catalog.schema import ProcedureRecord
from bot.nlu.data import OUT_OF_SCOPE, proc_id
from bot.nlu.result import NluResult
from bot.routing.thresholds import THRESHOLDS, Thresholds

Kind = Literal["procedure", "candidates", "none"]
SEARCH_K = 8


@dataclass(frozen=True)
class Candidate:
    id: str
    name: str
    channel: str
    score: float


@dataclass(frozen=True)
class RouteDecision:
    kind: Kind
    text: str
    confidence: float
    procedure: ProcedureRecord | None = None  # set when kind == "procedure"
    candidates: tuple[Candidate, ...] = ()  # best first
    act: str | None = None  # dialogue act or out_of_scope when kind == "none"
    debug: dict = field(default_factory=dict, compare=False)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def to_json(self) -> dict:
        """The `kawasaki-bot route` contract. `procedure` is the best guess whenever the text asks
        for a procedure (sure or not; `confidence` tells which), null when it asks for none."""
        best = self.best if self.kind != "none" else None
        return {
            "text": self.text,
            "procedure": {"id": best.id, "name": best.name, "channel": best.channel} if best else None,
            "confidence": round(float(self.confidence), 4),
            "candidates": [{"id": c.id, "name": c.name, "score": round(float(c.score), 4)}
                           for c in self.candidates],
        }


@dataclass(frozen=True)
class Evidence:
    """Per-procedure scores before the decision; kept apart so thresholds can be tuned on it."""

    combined: tuple[tuple[str, float], ...]  # (procedure id, score) best first
    act: str | None
    act_confidence: float


def gather(nlu: NluResult, catalog: Catalog, text: str, t: Thresholds = THRESHOLDS) -> Evidence:
    nlu_p: dict[str, float] = {}
    for item in nlu.ranking or (nlu.intent,):
        pid = proc_id(item.name)
        if pid is not None and pid in catalog:
            nlu_p[pid] = max(nlu_p.get(pid, 0.0), float(item.confidence))
    kw = {h.procedure.id: h.score for h in catalog.search(text, SEARCH_K)}
    combined = {
        pid: 1.0 - (1.0 - nlu_p.get(pid, 0.0)) * (1.0 - t.keyword_weight * kw.get(pid, 0.0))
        for pid in nlu_p.keys() | kw.keys()
    }
    ranked = tuple(sorted(combined.items(), key=lambda kv: (-kv[1], kv[0])))
    act, act_conf = None, 0.0
    if proc_id(nlu.intent.name) is None:
        act, act_conf = nlu.intent.name, float(nlu.intent.confidence)
    return Evidence(ranked, act, act_conf)


def decide(ev: Evidence, catalog: Catalog, text: str, t: Thresholds = THRESHOLDS) -> RouteDecision:
    ranked = [(pid, s) for pid, s in ev.combined if s > 0][: t.max_candidates]
    cands = tuple(
        Candidate(pid, p.name, p.channel, s) for pid, s in ranked if (p := catalog.get(pid)) is not None
    )
    best = cands[0].score if cands else 0.0
    second = cands[1].score if len(cands) > 1 else 0.0
    debug = {"act": ev.act, "act_confidence": ev.act_confidence}
    strong_act = ev.act is not None and ev.act_confidence >= t.act
    if strong_act and ev.act != OUT_OF_SCOPE and best < max(t.confident, ev.act_confidence):
        # "ありがとう", "こんにちは", "やめます": a dialogue act, not a request.
        return RouteDecision("none", text, ev.act_confidence, None, (), ev.act, debug)
    if best >= t.confident and best - second >= t.margin:
        return RouteDecision("procedure", text, best, catalog.get(cands[0].id), cands, None, debug)
    # The NLU thinks it is off-topic: only strong keyword evidence still earns candidates.
    need = t.oos_candidate if strong_act else t.candidate
    if best >= need:
        return RouteDecision("candidates", text, best, None, cands, None, debug)
    conf = ev.act_confidence if ev.act else 1.0 - best
    return RouteDecision("none", text, conf, None, (), ev.act or OUT_OF_SCOPE, debug)


def route(nlu: NluResult, catalog: Catalog, text: str, thresholds: Thresholds = THRESHOLDS) -> RouteDecision:
    """One procedure when sure, else up to 5 candidates, else no procedure (with the dialogue act)."""
    return decide(gather(nlu, catalog, text, thresholds), catalog, text, thresholds)
