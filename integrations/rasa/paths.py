"""Where the Rasa integration keeps its environment, project and models."""

from __future__ import annotations

import os
from pathlib import Path

# integrations/rasa/paths.py → repository root (the package is installed editable).
ROOT = Path(os.environ.get("KAWASAKI_ROOT") or Path(__file__).resolve().parents[2])
HERE = Path(__file__).resolve().parent

REQUIREMENTS = HERE / "requirements.txt"
CONSTRAINTS = HERE / "constraints.txt"
COMPONENTS = HERE / "components"

NLU_DATA = ROOT / "nlu_data"
CONFIG = NLU_DATA / "config.yml"
NLU_DIR = NLU_DATA / "nlu"


def venv_dir() -> Path:
    return Path(os.environ.get("RASA_VENV") or ROOT / ".rasa-venv")


def var_dir() -> Path:
    return Path(os.environ.get("RASA_VAR") or ROOT / "var" / "rasa")


def models_dir() -> Path:
    return var_dir() / "models"


def rasa_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for any Rasa process: telemetry off, the project importable (custom components are
    referenced by module path), and TensorFlow's start-up chatter silenced."""
    env = dict(os.environ if base is None else base)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    # The application's venv must not leak into Rasa's interpreter.
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONHOME", None)
    return env
