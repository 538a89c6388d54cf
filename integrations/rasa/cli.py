"""`kawasaki-bot rasa setup|train|serve`: the Rasa NLU server's life cycle."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from integrations.rasa import paths, serve, train, venv


@click.group("rasa")
def rasa() -> None:
    """Rasa NLU server (its own Python 3.10 environment in .rasa-venv/)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")


@rasa.command("setup")
@click.option("--force", is_flag=True, help="Rebuild even when the environment is up to date.")
def setup_cmd(force: bool) -> None:
    """Build .rasa-venv/ (Rasa 3.6, TensorFlow, SudachiPy); skipped when already built."""
    try:
        path = venv.build(force=force)
    except venv.RasaSetupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(str(path))


@rasa.command("train")
@click.option("--force", is_flag=True, help="Train even when a model for the same data exists.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Rasa config (default: nlu_data/config.yml).")
@click.option("--data", "nlu_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Training data directory (default: nlu_data/nlu).")
@click.option("--setup/--no-setup", default=True, help="Build the Rasa environment first if needed.")
def train_cmd(force: bool, config: Path | None, nlu_dir: Path | None, setup: bool) -> None:
    """Train var/rasa/models/nlu-<hash>.tar.gz; skipped when that model exists. Prints its path."""
    try:
        if setup:
            venv.build()
        result = train.train(config, nlu_dir, force=force)
    except (venv.RasaSetupError, train.RasaTrainError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(str(result.model))


@rasa.command("serve")
@click.option("--model", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Model archive (default: train or reuse the one for the current nlu_data/).")
@click.option("--port", type=int, default=None, help="Port (default: $RASA_PORT or 5005).")
@click.option("--host", default=None, help="Interface (default: $RASA_HOST or 127.0.0.1).")
@click.option("--setup/--no-setup", default=True, help="Build the Rasa environment first if needed.")
def serve_cmd(model: Path | None, port: int | None, host: str | None, setup: bool) -> None:
    """Run `rasa run --enable-api` (replaces this process)."""
    try:
        if setup:
            venv.build()
        if model is None:
            model = train.train().model if paths.NLU_DIR.is_dir() else train.latest_model()
        if model is None:
            raise click.ClickException("no training data in nlu_data/nlu and no trained model")
    except (venv.RasaSetupError, train.RasaTrainError) as exc:
        raise click.ClickException(str(exc)) from exc
    serve.exec_server(model, port, host)


if __name__ == "__main__":
    rasa()
