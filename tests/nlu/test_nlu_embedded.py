"""The embedded NLU: training, calibrated ranking, out-of-scope, disk cache, speed and size."""

from __future__ import annotations

import pickle
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from bot.nlu.data import OUT_OF_SCOPE, load_nlu_data
from bot.nlu.embedded import EmbeddedNlu, _choose_oos_thresholds, _fit_temperature, _softmax

FIXTURES = Path(__file__).parent / "fixtures" / "nlu_data"


@pytest.fixture(scope="module")
def model() -> EmbeddedNlu:
    return EmbeddedNlu.train(load_nlu_data(FIXTURES))


def test_parse_returns_a_ranking_best_first(model: EmbeddedNlu) -> None:
    res = model.parse("古いソファーを処分したいです")  # not a training example
    assert res.backend == "embedded"
    assert res.intent == res.ranking[0]
    assert res.intent.name == "proc_sodaigomi"
    confs = [r.confidence for r in res.ranking]
    assert confs == sorted(confs, reverse=True)
    assert 0.0 <= sum(confs) <= 1.0 + 1e-6
    assert len({r.name for r in res.ranking}) == len(res.ranking)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("じゅうみんひょうが欲しい", "proc_juminhyo"),  # kana only vs kanji examples
        ("ﾍﾞｯﾄﾞを捨てたいです！！", "proc_sodaigomi"),  # half-width, lookup table element
        ("国保から抜けたいです", "proc_kokuho_soshitsu"),  # synonym 国保 -> 国民健康保険
        ("おはよー", "greet"),
        ("どうもありがとう", "thanks"),
    ],
)
def test_new_phrasings(model: EmbeddedNlu, text: str, intent: str) -> None:
    assert model.parse(text).intent.name == intent


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "!!!???", "zxqvbnm qwpoiu"])
def test_empty_and_nonsense_is_out_of_scope(model: EmbeddedNlu, text: str) -> None:
    res = model.parse(text)
    assert res.intent.name == OUT_OF_SCOPE, res


def test_temperature_scaling_lowers_log_loss() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 400)
    logits = rng.normal(0, 1, (400, 5))
    logits[np.arange(400), y] += 1.0
    logits *= 6  # over-confident scores
    t = _fit_temperature(logits, y)
    def nll(temp: float) -> float:
        return float(-np.mean(np.log(_softmax(logits / temp)[np.arange(400), y])))
    assert t > 1.5 and nll(t) < nll(1.0)


def test_oos_threshold_respects_inscope_rejection_budget() -> None:
    rng = np.random.default_rng(1)
    n_in, n_oos = 300, 60
    conf = np.concatenate([rng.uniform(0.5, 1.0, n_in), rng.uniform(0.0, 0.6, n_oos)])
    sim = np.concatenate([rng.uniform(0.3, 1.0, n_in), rng.uniform(0.0, 0.4, n_oos)])
    y = np.array([0] * n_in + [1] * n_oos)
    pred = np.zeros_like(y)
    th = _choose_oos_thresholds(conf, sim, pred, y, oos_idx=1)
    reject = (conf < th.confidence) & (sim < th.novelty)
    assert reject[:n_in].mean() <= 0.03
    assert reject[n_in:].mean() > 0.5


def test_report_and_thresholds_come_from_data(model: EmbeddedNlu) -> None:
    r = model.report
    assert r.n_intents == len(model.intents) and r.n_examples > 0
    assert r.oof_top1 is not None and r.temperature > 0
    assert 0.0 <= r.oos.confidence <= 1.0


def test_cache_is_reused_until_data_changes(tmp_path: Path) -> None:
    data = tmp_path / "nlu_data"
    shutil.copytree(FIXTURES, data)
    cache = tmp_path / "cache"
    m1 = EmbeddedNlu.load_or_train(data, cache)
    files = list(cache.glob("*.pkl"))
    assert len(files) == 1
    t0 = time.perf_counter()
    m2 = EmbeddedNlu.load_or_train(data, cache)
    assert time.perf_counter() - t0 < m1.report.seconds  # loaded, not trained
    assert m2.parse("ソファを捨てたい").intent == m1.parse("ソファを捨てたい").intent
    # change the data: a new model replaces the old cache file
    extra = data / "nlu" / "more.yml"
    extra.write_text('version: "3.1"\nnlu:\n- intent: proc_toshokan\n  examples: |\n    - 本を借りる予約\n',
                     encoding="utf-8")
    m3 = EmbeddedNlu.load_or_train(data, cache)
    files2 = list(cache.glob("*.pkl"))
    assert len(files2) == 1 and files2 != files
    assert m3.report.n_examples == m1.report.n_examples + 1


def test_corrupt_cache_is_retrained(tmp_path: Path) -> None:
    data = tmp_path / "d"
    shutil.copytree(FIXTURES, data)
    cache = tmp_path / "c"
    EmbeddedNlu.load_or_train(data, cache)
    (path,) = cache.glob("*.pkl")
    path.write_bytes(b"not a pickle")
    model = EmbeddedNlu.load_or_train(data, cache)
    assert model.parse("住民票がほしい").intent.name == "proc_juminhyo"


def test_latency_and_long_text(model: EmbeddedNlu) -> None:
    texts = [f"粗大ごみでソファを{i}個捨てたい" for i in range(300)]
    model.parse(texts[0])
    times = []
    for t in texts:
        t0 = time.perf_counter()
        model.parse(t)
        times.append(time.perf_counter() - t0)
    # Target is 2 ms (bench/nlu_bench.py); the bound here is loose for a shared CI machine.
    assert np.percentile(times, 50) < 0.01
    long = "住民票がほしいです。" * 5000
    t0 = time.perf_counter()
    res = model.parse(long)
    assert time.perf_counter() - t0 < 0.1
    assert res.text == long and res.intent.name == "proc_juminhyo"


def test_model_is_small(model: EmbeddedNlu) -> None:
    assert len(pickle.dumps(model)) < 100 * 1024 * 1024


def test_parse_is_thread_safe(model: EmbeddedNlu) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"{w}{i}" for i in range(50) for w in ("ソファを捨てたい", "住民票がほしい", "こんにちは")]
    expected = [model.parse(t).intent.name for t in texts]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: model.parse(t).intent.name, texts))
    assert got == expected
