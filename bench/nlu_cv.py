"""k-fold cross-validation of NLU + routing on nlu_data/nlu only (never the held-out set).

    .venv/bin/python bench/nlu_cv.py [--seeds 0,1] [--errors FILE]

Prints intent-level metrics (as `evaluate_cv`) and end-to-end routed metrics computed like the
held-out evaluation: each out-of-fold NluResult goes through route(); top-1 = routed procedure
(or none for dialogue acts / out_of_scope), top-3 = expected among the first three candidates,
OOS = "no procedure".
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.catalog.index import Catalog  # noqa: E402
from bot.catalog.loader import load_catalog_file  # noqa: E402
from bot.nlu.data import OUT_OF_SCOPE, load_nlu_data, proc_id  # noqa: E402
from bot.nlu.embedded import DEFAULT_DATA_DIR  # noqa: E402
from bot.nlu.evaluation import oof_results  # noqa: E402
from bot.routing.router import route  # noqa: E402


def metrics(results, catalog: Catalog) -> tuple[dict, list[dict]]:
    n = len(results)
    i1 = i3 = 0
    r1 = r3 = 0
    ip = ig = itp = 0
    rp = rg = rtp = 0
    errors = []
    for text, gold, res in results:
        names = [r.name for r in res.ranking]
        i1 += res.intent.name == gold
        i3 += gold in names[:3]
        po, go = res.intent.name == OUT_OF_SCOPE, gold == OUT_OF_SCOPE
        ip += po
        ig += go
        itp += po and go
        dec = route(res, catalog, text).to_json()
        got = dec["procedure"]["id"] if dec["procedure"] else None
        exp = proc_id(gold)
        top3 = [c["id"] for c in dec["candidates"][:3]] if dec["procedure"] else []
        ok1 = got == exp
        r1 += ok1
        r3 += (exp is None and got is None) or (exp is not None and exp in top3)
        rp += got is None
        rg += exp is None
        rtp += got is None and exp is None
        if not ok1:
            errors.append({"text": text, "gold": gold, "got": got, "nlu": res.intent.name,
                           "conf": round(res.intent.confidence, 3)})
    pct = lambda a, b: round(100 * a / b, 1) if b else None  # noqa: E731
    return {"n": n, "intent top1": pct(i1, n), "intent top3": pct(i3, n), "intent OOS P": pct(itp, ip),
            "intent OOS R": pct(itp, ig), "route top1": pct(r1, n), "route top3": pct(r3, n),
            "route none P": pct(rtp, rp), "route none R": pct(rtp, rg)}, errors


@click.command()
@click.option("--data", "data_dir", type=click.Path(exists=True, path_type=Path), default=DEFAULT_DATA_DIR / "nlu")
@click.option("--seeds", default="0")
@click.option("--folds", default=5)
@click.option("--errors", "errors_file", type=click.Path(path_type=Path), default=None)
def main(data_dir: Path, seeds: str, folds: int, errors_file: Path | None) -> None:
    data = load_nlu_data(data_dir)
    catalog = Catalog(load_catalog_file().procedures)
    all_err = []
    for seed in [int(s) for s in seeds.split(",")]:
        t0 = time.perf_counter()
        res = oof_results(data, folds, seed=seed)
        m, err = metrics(res, catalog)
        m["seed"] = seed
        m["s"] = round(time.perf_counter() - t0, 1)
        click.echo(json.dumps(m, ensure_ascii=False))
        all_err += err
    if errors_file:
        errors_file.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in all_err) + "\n")


if __name__ == "__main__":
    main()
