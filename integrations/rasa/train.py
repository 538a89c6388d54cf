"""Train the Rasa NLU model from nlu_data/ inside Rasa's own venv.

The model is named after a hash of everything that shapes it (config, training data, the custom
component's source, the Rasa environment), so an unchanged project is never retrained:
var/rasa/models/nlu-<hash>.tar.gz.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from integrations.rasa import paths, venv

log = logging.getLogger(__name__)

MODEL_PREFIX = "nlu-"
HASH_CHARS = 16
KEEP_MODELS = 3  # older models are deleted after a successful training


class RasaTrainError(RuntimeError):
    pass


@dataclass(frozen=True)
class TrainResult:
    model: Path
    trained: bool  # False when an existing model for the same hash was reused
    seconds: float


def training_files(nlu_dir: Path) -> list[Path]:
    files = sorted(p for ext in ("*.yml", "*.yaml") for p in nlu_dir.rglob(ext) if p.is_file())
    if not files:
        raise RasaTrainError(f"no training data (*.yml) under {nlu_dir}")
    return files


def model_hash(config: Path, nlu_dir: Path) -> str:
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(f"{label}\0{len(data)}\0".encode())
        h.update(data)

    add("config", config.read_bytes())
    for f in training_files(nlu_dir):
        add(f"data:{f.relative_to(nlu_dir).as_posix()}", f.read_bytes())
    for f in sorted(paths.COMPONENTS.glob("*.py")):
        add(f"component:{f.name}", f.read_bytes())
    # A different Rasa/TensorFlow build may not load (or reproduce) the model.
    for f in (paths.REQUIREMENTS, paths.CONSTRAINTS):
        add(f"env:{f.name}", f.read_bytes())
    return h.hexdigest()[:HASH_CHARS]


def model_path(digest: str) -> Path:
    return paths.models_dir() / f"{MODEL_PREFIX}{digest}.tar.gz"


def latest_model() -> Path | None:
    models = sorted(paths.models_dir().glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def assemble_project(config: Path, nlu_dir: Path, project: Path) -> Path:
    """A self-contained Rasa project directory: config.yml + data/ (a copy of the training data)."""
    if project.exists():
        shutil.rmtree(project)
    data = project / "data"
    data.mkdir(parents=True)
    shutil.copyfile(config, project / "config.yml")
    for f in training_files(nlu_dir):
        dest = data / f.relative_to(nlu_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dest)
    return project


def train(
    config: Path | None = None,
    nlu_dir: Path | None = None,
    *,
    force: bool = False,
    echo: bool = True,
) -> TrainResult:
    config = config or paths.CONFIG
    nlu_dir = nlu_dir or paths.NLU_DIR
    if not venv.is_built():
        raise RasaTrainError("the Rasa venv is missing: run `kawasaki-bot rasa setup` first")
    digest = model_hash(config, nlu_dir)
    target = model_path(digest)
    with venv.file_lock(paths.var_dir() / "train.lock"):
        if target.is_file() and not force:
            log.info("Rasa model %s is up to date", target.name)
            return TrainResult(target, trained=False, seconds=0.0)
        project = assemble_project(config, nlu_dir, paths.var_dir() / "project")
        paths.models_dir().mkdir(parents=True, exist_ok=True)
        cmd = [
            str(venv.rasa_executable()), "train", "nlu",
            "--config", "config.yml",
            "--nlu", "data",
            "--out", str(paths.models_dir()),
            "--fixed-model-name", target.name.removesuffix(".tar.gz"),
        ]
        started = time.monotonic()
        log_file = project / "train.log"
        with open(log_file, "w") as fh:
            # Rasa keeps its training cache in the working directory (.rasa/): keep it under var/.
            proc = subprocess.run(
                cmd, cwd=project, env=paths.rasa_env(), stdout=None if echo else fh, stderr=subprocess.STDOUT
            )
        seconds = time.monotonic() - started
        if proc.returncode != 0 or not target.is_file():
            tail = "" if echo else log_file.read_text(errors="replace")[-3000:]
            raise RasaTrainError(f"`rasa train nlu` failed ({proc.returncode}); see {log_file}\n{tail}")
        log.info("trained %s in %.0fs", target.name, seconds)
        _prune(keep=target)
        return TrainResult(target, trained=True, seconds=seconds)


def _prune(keep: Path) -> None:
    models = sorted(paths.models_dir().glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for old in [m for m in models if m != keep][: max(0, len(models) - KEEP_MODELS)]:
        old.unlink(missing_ok=True)
