"""The embedded (in-process) NLU: trained from nlu_data/ on first start, cached on disk.

Model: sparse features (features.py) -> linear SVM (LinearSVC, one-vs-rest), with
- probabilities = softmax(decision scores / T), the temperature T fitted by minimizing the
  log-loss of out-of-fold predictions (temperature scaling), so `confidence` is a calibrated
  probability rather than a raw margin. (LinearSVC was measured more accurate than
  LogisticRegression on this data and trains in well under a second; lbfgs-LR took >30 s.)
- out-of-scope detection = the `out_of_scope` intent OR (low calibrated confidence AND low
  similarity to every training example). Both thresholds are chosen on out-of-fold predictions
  at training time (see `_choose_oos_thresholds`), never by hand.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from bot.nlu import normalize as _normalize
from bot.nlu.data import OUT_OF_SCOPE, PROC_PREFIX, NluData, data_fingerprint, load_nlu_data, nlu_files
from bot.nlu.features import MAX_CHARS, Featurizer
from bot.nlu.result import IntentScore, NluResult
from bot.sparse_rows import SparseRows

log = logging.getLogger(__name__)

# Bump when features/classifier change so stale caches are not reused.
MODEL_VERSION = "embedded-9"  # 9: float16 weights
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / "nlu_data"
DEFAULT_CACHE_DIR = REPO_ROOT / "var" / "cache"
# Regularisation strength; measured with `kawasaki-bot nlu eval` (cross-validated top-1).
SVM_C = 1.0
CV_FOLDS = 5
RANKING_SIZE = 10
# An in-scope request wrongly rejected as out of scope costs more than a stray answer (the router
# still offers candidates), so the OOS threshold may reject at most this share of in-scope data.
MAX_INSCOPE_REJECTION = 0.03


@dataclass
class OosThresholds:
    confidence: float = 0.0  # reject when calibrated top confidence is below ...
    novelty: float = 0.0  # ... AND cosine similarity to the nearest training example is below


@dataclass
class TrainReport:
    n_examples: int = 0
    n_intents: int = 0
    seconds: float = 0.0
    temperature: float = 1.0
    oof_top1: float | None = None
    oos: OosThresholds = field(default_factory=OosThresholds)
    fingerprint: str = ""


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimizing the negative log-likelihood of out-of-fold logits."""
    best_t, best_nll = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.05), np.log(10.0), 80)):
        p = _softmax(logits / t)
        nll = -np.mean(np.log(p[np.arange(len(y)), y] + 1e-12))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def _choose_oos_thresholds(
    conf: np.ndarray, sim: np.ndarray, pred: np.ndarray, y: np.ndarray, oos_idx: int | None
) -> OosThresholds:
    """Maximize out-of-scope recall with in-scope rejection <= MAX_INSCOPE_REJECTION.

    Works on out-of-fold predictions: a held-out out_of_scope example plays an unseen
    off-topic message; a held-out in-scope example plays a new phrasing of a known request.
    """
    if oos_idx is None:
        return OosThresholds()
    is_oos = y == oos_idx
    if not is_oos.any() or is_oos.all():
        return OosThresholds()
    already = pred == oos_idx  # caught by the intent itself
    inscope = ~is_oos
    base_reject = (already & inscope).sum()
    best = (-1.0, 1.0, OosThresholds())
    conf_grid = np.unique(np.quantile(conf, np.linspace(0, 0.5, 26)))
    sim_grid = np.unique(np.concatenate([np.quantile(sim, np.linspace(0, 1, 41)), [1.01]]))
    for tc in conf_grid:
        low_conf = conf < tc
        for ts in sim_grid:
            reject = already | (low_conf & (sim < ts))
            fr = ((reject & inscope).sum() - base_reject) / max(inscope.sum(), 1)
            if fr > MAX_INSCOPE_REJECTION:
                continue
            recall = (reject & is_oos).sum() / is_oos.sum()
            # Prefer higher recall, then the lower false rejection.
            if (recall, -fr) > (best[0], -best[1]):
                best = (recall, fr, OosThresholds(float(tc), float(ts)))
    return best[2]


class EmbeddedNlu:
    backend = "embedded"

    def __init__(self) -> None:
        self.featurizer: Featurizer | None = None
        self.clf = None  # sklearn's LinearSVC while training only
        self.intents: list[str] = []
        self.temperature = 1.0
        self.oos = OosThresholds()
        # Inference-only state (built by `_compile`): dense weights, feature-major training matrix.
        self.fast = None
        self.coef: np.ndarray | None = None
        self.intercept: np.ndarray | None = None
        self.train_matrix: SparseRows | None = None  # feature x example, for the novelty score
        self._non_procedure: np.ndarray | None = None  # indices of dialogue acts and out_of_scope
        self.report = TrainReport()

    # ---------------------------------------------------------------- training
    @classmethod
    def train(cls, data: NluData, *, calibrate: bool = True, split_mode: str | None = None,
              c: float = SVM_C) -> EmbeddedNlu:
        t0 = time.perf_counter()
        pairs = [(t, i) for t, i in data.examples() if t.strip()]
        if len({i for _, i in pairs}) < 2:
            raise ValueError("NLU data needs at least two intents with examples")
        texts = [t for t, _ in pairs]
        self = cls()
        self.intents = sorted({i for _, i in pairs})
        index = {name: k for k, name in enumerate(self.intents)}
        y = np.array([index[i] for _, i in pairs])
        # scikit-learn is imported for training only (in a child process on a cache miss): a serving
        # process runs on the compiled arrays and saves ~50 MB of resident memory without it.
        from sklearn.svm import LinearSVC

        self.featurizer = Featurizer(data, split_mode=split_mode)
        prepared = [self.featurizer.prepare(t) for t in texts]  # tokenize once, reuse in every fold
        x = self.featurizer.fit_transform(texts, prepared)
        self.clf = LinearSVC(C=c)
        self.clf.fit(x, y)
        self._compile(x)
        report = TrainReport(n_examples=len(texts), n_intents=len(self.intents))
        if calibrate:
            self._calibrate(data, texts, prepared, y, split_mode, c, report)
        # Inference runs on the compiled arrays only; the sklearn objects would double the size.
        self.featurizer = None
        self.clf = None
        report.seconds = time.perf_counter() - t0
        self.report = report
        return self

    def _calibrate(self, data: NluData, texts: list[str], prepared: list, y: np.ndarray,
                   split_mode: str | None, c: float, report: TrainReport) -> None:
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import LinearSVC

        k = CV_FOLDS
        n = len(texts)
        logits = np.zeros((n, len(self.intents)))
        sims = np.zeros(n)
        covered = np.zeros(n, dtype=bool)
        counts = np.bincount(y, minlength=len(self.intents))
        strat = np.where(counts[y] >= k, y, -1)  # rare intents go into one stratum
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=0)
        for train_idx, test_idx in splitter.split(np.zeros(n), strat):
            if len(np.unique(y[train_idx])) < 2:
                continue
            fz = Featurizer(data, split_mode=split_mode)
            xtr = fz.fit_transform([], [prepared[i] for i in train_idx])
            xte = fz.transform([], [prepared[i] for i in test_idx])
            clf = LinearSVC(C=c).fit(xtr, y[train_idx])
            z = np.full((len(test_idx), len(self.intents)), -1e3)
            z[:, clf.classes_] = clf.decision_function(xte).reshape(len(test_idx), -1)
            logits[test_idx] = z
            sims[test_idx] = (xte @ xtr.T).max(axis=1).toarray().ravel()
            covered[test_idx] = True
        logits, sims, yy = logits[covered], sims[covered], y[covered]
        if len(yy) == 0:
            return
        self.temperature = _fit_temperature(logits, yy)
        p = _softmax(logits / self.temperature)
        pred = p.argmax(axis=1)
        report.temperature = self.temperature
        report.oof_top1 = float((pred == yy).mean())
        oos_idx = self.intents.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in self.intents else None
        self.oos = _choose_oos_thresholds(p.max(axis=1), sims, pred, yy, oos_idx)
        report.oos = self.oos

    def _compile(self, x) -> None:  # x: the scipy training matrix (example x feature)
        assert self.featurizer is not None and self.clf is not None
        self.fast = self.featurizer.compile()
        coef = np.asarray(self.clf.coef_, dtype=np.float64)
        intercept = np.asarray(self.clf.intercept_, dtype=np.float64)
        if coef.shape[0] == 1:  # a binary model stores one row; expand to two logits
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        # Feature-major so a query's few features select few rows. float16 (5.7 MB, not 23 MB of
        # float64): weights are at most ~3, so rounding moves a score by ~1e-4, far below the gaps
        # the routing thresholds look at (held-out and cross-validation figures are unchanged).
        self.coef = np.ascontiguousarray(coef.T, dtype=np.float16)
        self.intercept = intercept
        self.train_matrix = SparseRows.from_scipy(x.T, dtype=np.float32)
        self._non_procedure = np.array([k for k, name in enumerate(self.intents)
                                        if not name.startswith(PROC_PREFIX)], dtype=np.int64)

    # ---------------------------------------------------------------- inference
    def scores(self, text: str) -> tuple[np.ndarray, float]:
        """Calibrated probabilities over `self.intents` and novelty similarity."""
        assert self.fast is not None and self.coef is not None and self.train_matrix is not None
        idx, val = self.fast.vector(text)
        z = val @ self.coef[idx].astype(np.float64) + self.intercept
        z = z / self.temperature
        z = np.exp(z - z.max())
        p = z / z.sum()
        sim = 0.0
        if len(idx):
            # Cosine to the nearest training example: the query's feature rows, summed per example.
            sim = float(self.train_matrix.weighted_row_sum(idx, val).max())
        return p, sim

    def _threshold_oos_confidence(self, p: np.ndarray, top: float) -> float:
        """Confidence of an out-of-scope decision made by the thresholds (not by the intent).

        `1 - top` alone counts probability spread over several procedures as evidence of "off
        topic", so an ambiguous request ("which of these?") looked strongly out of scope and the
        router hid its candidates; the mass outside procedures alone under-rates novel off-topic
        texts. Their mean was best in 5-fold CV on nlu_data/nlu (thresholds re-tuned for each
        variant; routed top-3 95.1% -> 95.5%, in-scope texts answered "no procedure" 49 -> 29).
        """
        outside = float(p[self._non_procedure].sum()) if self._non_procedure is not None else 0.0
        p_oos = float(p[self.intents.index(OUT_OF_SCOPE)]) if OUT_OF_SCOPE in self.intents else 0.0
        return max(0.5 * (1.0 - top) + 0.5 * outside, p_oos)

    def parse(self, text: str) -> NluResult:
        text = text or ""
        short = text[:MAX_CHARS]
        p, sim = self.scores(short)
        order = np.argsort(-p)[:RANKING_SIZE]
        ranking = [IntentScore(self.intents[i], float(p[i])) for i in order]
        top = ranking[0]
        extra: dict = {"novelty_similarity": round(sim, 4)}
        if top.name != OUT_OF_SCOPE and (
            not _normalize.normalize(short) or (top.confidence < self.oos.confidence and sim < self.oos.novelty)
        ):
            oos_conf = self._threshold_oos_confidence(p, top.confidence)
            extra.update(oos_reason="threshold", model_intent=top.name)
            ranking = [IntentScore(OUT_OF_SCOPE, oos_conf)] + [r for r in ranking if r.name != OUT_OF_SCOPE]
        elif top.name == OUT_OF_SCOPE:
            extra["oos_reason"] = "intent"
        return NluResult(text=text, intent=ranking[0], ranking=tuple(ranking), backend=self.backend,
                         extra=extra)

    # ---------------------------------------------------------------- cache
    @staticmethod
    def cache_key(files: list[Path]) -> str:
        extra = f"{MODEL_VERSION}|{metadata.version('scikit-learn')}|{_normalize.SPLIT_MODE}|{_normalize.SUDACHI_DICT}|{SVM_C}"
        # The code that shapes features is part of the model: a change there must retrain.
        code = [Path(__file__).with_name(n) for n in ("embedded.py", "features.py", "normalize.py", "data.py")]
        return data_fingerprint([*files, *code], extra)

    @classmethod
    def load_or_train(cls, data_dir: Path | str = DEFAULT_DATA_DIR,
                      cache_dir: Path | str | None = DEFAULT_CACHE_DIR, *,
                      isolate_training: bool = True) -> EmbeddedNlu:
        """Load the cached model for the current data, or train and cache it.

        Training runs in a child process by default: it needs several hundred MB that a long-running
        server would otherwise keep, while the trained model itself is about 12 MB.
        """
        data_dir = Path(data_dir).resolve()
        files = nlu_files(data_dir)
        key = cls.cache_key(files)
        # One cache file per data directory, so models of different data sets do not evict each other.
        prefix = "nlu-" + hashlib.sha1(str(data_dir).encode()).hexdigest()[:8]
        path = Path(cache_dir) / f"{prefix}-{key}.pkl" if cache_dir else None
        if path and path.exists():
            try:
                with path.open("rb") as fh:
                    model = pickle.load(fh)
                if isinstance(model, cls):
                    return model
            except Exception as exc:  # corrupt or incompatible cache: retrain
                log.warning("ignoring NLU cache %s: %s", path, exc)
        if path and isolate_training and _train_in_child(data_dir, cache_dir, path):
            with path.open("rb") as fh:
                return pickle.load(fh)
        model = cls.train(load_nlu_data(data_dir))
        model.report.fingerprint = key
        if path:
            model.save(path)
        return model

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".nlu-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: concurrent workers never read half a file
        prefix = path.name.rsplit("-", 1)[0]
        for old in path.parent.glob(f"{prefix}-*.pkl"):
            if old != path:
                old.unlink(missing_ok=True)


def _train_and_cache(data_dir: str, cache_dir: str) -> None:
    EmbeddedNlu.load_or_train(data_dir, cache_dir, isolate_training=False)


def _train_in_child(data_dir: Path, cache_dir: Path | str, path: Path) -> bool:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_train_and_cache, args=(str(data_dir), str(cache_dir)), name="nlu-training")
    proc.start()
    proc.join()
    if proc.exitcode != 0 or not path.exists():
        log.warning("NLU training in a child process failed (exit %s); training in process", proc.exitcode)
        return False
    return True
