"""Build Rasa's own Python 3.10 virtual environment (`.rasa-venv/`).

Rasa 3.6 supports Python 3.8-3.10 only and pins SQLAlchemy < 2, so it cannot share the application's
environment. The build is idempotent: a stamp holding the hash of the requirements, the constraints and
the interpreter version is written last, and a build with the same hash is skipped.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from integrations.rasa import paths

log = logging.getLogger(__name__)

STAMP = ".kawasaki-requirements.sha256"
# pip >= 24.1 refuses some legacy version metadata found in Rasa 3.6's dependency tree.
PIP_SPEC = "pip>=23.3,<24.1"


class RasaSetupError(RuntimeError):
    pass


def find_python() -> str:
    """A Python 3.10 interpreter: $RASA_PYTHON, pyenv's 3.10.x, or python3.10 on PATH."""
    explicit = os.environ.get("RASA_PYTHON")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise RasaSetupError(f"RASA_PYTHON={explicit} is not an executable Python 3.10")
        return explicit
    candidates: list[str] = []
    pyenv_root = os.environ.get("PYENV_ROOT") or _pyenv_root()
    if pyenv_root:
        candidates += sorted(
            glob.glob(os.path.join(pyenv_root, "versions", "3.10.*", "bin", "python")),
            key=_version_key,
            reverse=True,
        )
    which = shutil.which("python3.10")
    if which:
        candidates.append(which)
    for c in candidates:
        if os.access(c, os.X_OK):
            return c
    raise RasaSetupError(
        "Python 3.10 was not found (Rasa 3.6 needs it). Install it (e.g. `pyenv install 3.10.13`) "
        "or set RASA_PYTHON to its path."
    )


def _pyenv_root() -> str | None:
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parents[1].name  # .../versions/3.10.13/bin/python
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


def requirements_hash(python: str) -> str:
    h = hashlib.sha256()
    h.update(PIP_SPEC.encode())
    for f in (paths.REQUIREMENTS, paths.CONSTRAINTS):
        h.update(f.read_bytes())
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True, check=True
    ).stdout
    h.update(version.encode())
    return h.hexdigest()


def venv_python(venv: Path | None = None) -> Path:
    return (venv or paths.venv_dir()) / "bin" / "python"


def rasa_executable(venv: Path | None = None) -> Path:
    return (venv or paths.venv_dir()) / "bin" / "rasa"


def is_built(venv: Path | None = None) -> bool:
    """True when a complete build exists (its stamp is written last). Does not check freshness."""
    venv = venv or paths.venv_dir()
    return (venv / STAMP).is_file() and rasa_executable(venv).exists()


def is_current(venv: Path | None = None, python: str | None = None) -> bool:
    venv = venv or paths.venv_dir()
    if not is_built(venv):
        return False
    return (venv / STAMP).read_text().strip() == requirements_hash(python or find_python())


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Serialize builds/trainings between processes (CLI, tests, Procfile)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(force: bool = False, echo: bool = True) -> Path:
    """Build (or reuse) the Rasa venv; returns its directory."""
    venv = paths.venv_dir()
    python = find_python()
    wanted = requirements_hash(python)
    with file_lock(venv.with_name(venv.name + ".lock")):
        stamp = venv / STAMP
        if not force and is_built(venv) and stamp.read_text().strip() == wanted:
            log.info("Rasa venv %s is up to date", venv)
            return venv
        started = time.monotonic()
        if venv.exists():
            shutil.rmtree(venv)
        out = None if echo else subprocess.DEVNULL
        # -qq also hides pip's warnings (e.g. about configured local indexes that do not exist).
        quiet = "--quiet" if echo else "-qq"
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH")}
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        steps = [
            [python, "-m", "venv", str(venv)],
            [str(venv_python(venv)), "-m", "pip", "install", quiet, PIP_SPEC, "setuptools", "wheel"],
            [
                str(venv_python(venv)), "-m", "pip", "install", quiet,
                "-r", str(paths.REQUIREMENTS), "-c", str(paths.CONSTRAINTS),
            ],
        ]
        for cmd in steps:
            rc = subprocess.run(cmd, env=env, stdout=out, stderr=None).returncode
            if rc != 0:
                raise RasaSetupError(f"building the Rasa venv failed ({rc}): {' '.join(cmd)}")
        check = subprocess.run(
            [str(venv_python(venv)), "-c", "import rasa, sudachipy; print(rasa.__version__)"],
            env=paths.rasa_env(env), capture_output=True, text=True,
        )
        if check.returncode != 0:
            raise RasaSetupError(f"the Rasa venv does not import: {check.stderr[-2000:]}")
        stamp.write_text(wanted + "\n")
        log.info("Rasa %s venv built in %.0fs at %s", check.stdout.strip(), time.monotonic() - started, venv)
        return venv


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build(force="--force" in sys.argv)
