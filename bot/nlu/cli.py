"""`kawasaki-bot nlu train|eval|tune`: build, measure and calibrate the NLU."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from bot.nlu.data import load_heldout, load_nlu_data, nlu_files
from bot.nlu.embedded import DEFAULT_CACHE_DIR, DEFAULT_DATA_DIR, EmbeddedNlu
from bot.nlu.evaluation import EvalReport, evaluate_cv, evaluate_heldout

DEFAULT_HELDOUT = DEFAULT_DATA_DIR / "heldout" / "heldout.yml"


def markdown_table(rows: list[dict]) -> str:
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


@click.group("nlu")
def nlu_group() -> None:
    """Train and evaluate the NLU."""


@nlu_group.command("train")
@click.option("--data", "data_dir", type=click.Path(exists=True, path_type=Path), default=DEFAULT_DATA_DIR)
@click.option("--cache-dir", type=click.Path(path_type=Path), default=DEFAULT_CACHE_DIR)
def train_command(data_dir: Path, cache_dir: Path) -> None:
    """Train the embedded NLU from Rasa YAML and cache it (a no-op when the data did not change)."""
    model = EmbeddedNlu.load_or_train(data_dir, cache_dir)
    r = model.report
    click.echo(json.dumps({
        "intents": r.n_intents, "examples": r.n_examples, "train_seconds": round(r.seconds, 2),
        "temperature": round(r.temperature, 3), "oof_top1": r.oof_top1,
        "oos_threshold": {"confidence": round(r.oos.confidence, 4), "novelty": round(r.oos.novelty, 4)},
        "cache_key": EmbeddedNlu.cache_key(nlu_files(data_dir)),
    }, ensure_ascii=False))


@nlu_group.command("eval")
@click.option("--data", "data_dir", type=click.Path(exists=True, path_type=Path), default=DEFAULT_DATA_DIR)
@click.option("--heldout", type=click.Path(path_type=Path), default=DEFAULT_HELDOUT,
              help="Held-out YAML ({text, expected}); cross-validation on --data when missing.")
@click.option("--catalog", "catalog_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None)
@click.option("--rasa-url", default=lambda: os.environ.get("RASA_URL"), help="Also evaluate this Rasa server.")
@click.option("--errors", "show_errors", is_flag=True, help="List the misrouted texts.")
@click.option("--folds", default=5, show_default=True)
@click.option("--cache-dir", type=click.Path(path_type=Path), default=DEFAULT_CACHE_DIR)
def eval_command(data_dir: Path, heldout: Path, catalog_file: Path | None, rasa_url: str | None,
                 show_errors: bool, folds: int, cache_dir: Path) -> None:
    """Top-1, top-3, out-of-scope precision/recall and latency, as a markdown table."""
    from bot.catalog.service import catalog_from_file, get_catalog

    catalog = catalog_from_file(catalog_file) if catalog_file else get_catalog()
    reports: list[EvalReport] = []
    if heldout.exists():
        items = load_heldout(heldout)
        model = EmbeddedNlu.load_or_train(data_dir, cache_dir)
        reports.append(evaluate_heldout(model, catalog, items, "embedded"))
        if rasa_url:
            from bot.nlu.service import rasa_nlu

            reports.append(evaluate_heldout(rasa_nlu(rasa_url), catalog, items, "rasa"))
    else:
        click.echo(f"(no held-out set at {heldout}: {folds}-fold cross-validation on {data_dir})", err=True)
        reports.append(evaluate_cv(load_nlu_data(data_dir), folds))
        if rasa_url:
            click.echo("(Rasa is only compared on a held-out set)", err=True)
    click.echo(markdown_table([r.row() for r in reports]))
    if show_errors:
        for r in reports:
            for e in r.errors:
                click.echo(f"{r.backend}\t" + json.dumps(e, ensure_ascii=False))


@nlu_group.command("tune")
@click.option("--data", "data_dir", type=click.Path(exists=True, path_type=Path), default=DEFAULT_DATA_DIR)
@click.option("--catalog", "catalog_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None)
@click.option("--folds", default=5, show_default=True)
@click.option("--seeds", default="0,1", show_default=True,
              help="k-fold shuffles whose out-of-fold predictions are pooled for tuning.")
def tune_command(data_dir: Path, catalog_file: Path | None, folds: int, seeds: str) -> None:
    """Choose routing thresholds on out-of-fold predictions; prints values for thresholds.py."""
    from bot.catalog.service import catalog_from_file, get_catalog
    from bot.routing.tuning import tune_on_data

    catalog = catalog_from_file(catalog_file) if catalog_file else get_catalog()
    seed_list = tuple(int(s) for s in seeds.split(",") if s.strip())
    res = tune_on_data(load_nlu_data(data_dir), catalog, folds, seed_list)
    click.echo(f"examples: {res.n}  utility: current {res.baseline_utility:.3f} -> best {res.utility:.3f}")
    click.echo(repr(res.thresholds))


if __name__ == "__main__":
    sys.exit(nlu_group())
