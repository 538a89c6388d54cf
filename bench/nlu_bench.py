"""NLU + routing benchmark: accuracy, latency, model size, training time; prints markdown tables.

    .venv/bin/python bench/nlu_bench.py              # embedded NLU (+ Rasa when RASA_URL is set)
    .venv/bin/python bench/nlu_bench.py --split-modes  # also compare Sudachi split modes A/B/C

Accuracy is measured on nlu_data/heldout/heldout.yml when present (end to end through route()),
else by cross-validation on nlu_data/. Routing time is also measured over the repository catalog
merged with a generated 2,650-procedure CSV (bench/gen_catalog.py), the size of the city's list.
"""

from __future__ import annotations

import gc
import os
import pickle
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import click

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.catalog.csv_import import read_catalog_csv  # noqa: E402
from bot.catalog.index import Catalog  # noqa: E402
from bot.catalog.loader import load_catalog_file  # noqa: E402
from bot.nlu.cli import markdown_table  # noqa: E402
from bot.nlu.data import load_heldout, load_nlu_data  # noqa: E402
from bot.nlu.embedded import DEFAULT_DATA_DIR, EmbeddedNlu  # noqa: E402
from bot.nlu.evaluation import evaluate_cv, evaluate_heldout, latency  # noqa: E402
from bot.routing.router import route  # noqa: E402

HELDOUT = DEFAULT_DATA_DIR / "heldout" / "heldout.yml"


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def model_size(model: EmbeddedNlu) -> dict[str, str]:
    blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    gc.collect()
    tracemalloc.start()
    loaded = pickle.loads(blob)
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del loaded
    return {"pickle MB": f"{len(blob) / 2**20:.1f}", "Python heap MB (loaded)": f"{current / 2**20:.1f}"}


def texts_for_latency(data_dir: Path) -> list[str]:
    if HELDOUT.exists():
        return [i.text for i in load_heldout(HELDOUT)]
    return [t for t, _ in load_nlu_data(data_dir).examples()]


@click.command()
@click.option("--data", "data_dir", type=click.Path(exists=True, path_type=Path), default=DEFAULT_DATA_DIR)
@click.option("--split-modes", is_flag=True, help="Compare Sudachi split modes A/B/C (cross-validated).")
@click.option("--repeat", default=3, show_default=True, help="Latency passes over the texts.")
def main(data_dir: Path, split_modes: bool, repeat: int) -> None:
    rss0 = rss_mb()
    data = load_nlu_data(data_dir)
    t0 = time.perf_counter()
    model = EmbeddedNlu.train(data)
    train_s = time.perf_counter() - t0
    rss1 = rss_mb()
    repo_catalog = Catalog(load_catalog_file().procedures)

    click.echo(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"load average {os.getloadavg()[0]:.1f}; Python {platform.python_version()}\n")

    # ---- accuracy
    rows = []
    if HELDOUT.exists():
        items = load_heldout(HELDOUT)
        rows.append(evaluate_heldout(model, repo_catalog, items, "embedded").row())
        if os.environ.get("RASA_URL"):
            from bot.nlu.service import rasa_nlu

            rows.append(evaluate_heldout(rasa_nlu(os.environ["RASA_URL"]), repo_catalog, items, "rasa").row())
    else:
        rows.append(evaluate_cv(data).row())
    click.echo("### Accuracy (end to end through route() on the held-out set, else 5-fold CV)\n")
    click.echo(markdown_table(rows) + "\n")

    # ---- model
    r = model.report
    info = {"intents": r.n_intents, "examples": r.n_examples, "training s (incl. 5-fold calibration)":
            f"{train_s:.1f}", "out-of-fold top-1": f"{100 * (r.oof_top1 or 0):.1f}%",
            "temperature": f"{r.temperature:.3f}", "OOS thresholds (conf / novelty)":
            f"{r.oos.confidence:.3f} / {r.oos.novelty:.3f}", **model_size(model),
            "process RSS growth MB (model + Sudachi)": f"{rss1 - rss0:.0f}"}
    click.echo("### Embedded model\n")
    click.echo(markdown_table([info]) + "\n")

    # ---- latency
    texts = texts_for_latency(data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        from gen_catalog import write_csv  # bench/ is on sys.path when this file is run

        csv_path = write_csv(Path(tmp) / "catalog_2650.csv")
        t0 = time.perf_counter()
        imported = read_catalog_csv(csv_path)
        curated_names = {p.name for p in repo_catalog.procedures}
        big = Catalog([*repo_catalog.procedures, *(p for p in imported if p.name not in curated_names)])
        index_s = time.perf_counter() - t0
    long_texts = [(t + "。") * 200 for t in texts[:100]]
    lat_rows = []
    for label, fn, sample in [
        ("NLU parse", model.parse, texts),
        ("NLU parse, 2,000+ char text", model.parse, long_texts),
        (f"route() incl. NLU, {len(repo_catalog)} procedures", lambda t: route(model.parse(t), repo_catalog, t),
         texts),
        (f"route() incl. NLU, {len(big):,} procedures", lambda t: route(model.parse(t), big, t), texts),
        (f"keyword search only, {len(big):,} procedures", lambda t: big.search(t, 8), texts),
    ]:
        p50, p99 = latency(fn, sample, repeat)
        lat_rows.append({"what": label, "n": len(sample) * repeat, "p50 ms": f"{p50:.2f}", "p99 ms": f"{p99:.2f}"})
    click.echo("### Latency (single thread, warm)\n")
    click.echo(markdown_table(lat_rows) + "\n")
    click.echo(f"Building the {len(big):,}-procedure catalog (CSV parse + index): {index_s:.1f} s\n")

    if split_modes:
        mode_rows = []
        from bot.nlu import normalize

        for mode in ("A", "B", "C"):
            t0 = time.perf_counter()
            m = EmbeddedNlu.train(data, split_mode=mode)
            took = time.perf_counter() - t0
            normalize._analyze_cached.cache_clear()
            p50, p99 = latency(m.parse, texts[:300])
            mode_rows.append({"Sudachi mode": mode, "out-of-fold top-1": f"{100 * (m.report.oof_top1 or 0):.1f}%",
                              "training s": f"{took:.1f}", "parse p50 ms": f"{p50:.2f}"})
        click.echo("### Sudachi split mode (5-fold out-of-fold top-1 on nlu_data)\n")
        click.echo(markdown_table(mode_rows) + "\n")


if __name__ == "__main__":
    main()
