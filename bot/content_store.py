"""Photos residents send for a form (e.g. road damage), fetched from LINE's content API.

Stored under KB_VAR_DIR/uploads by a reference derived from the LINE message id, so a re-processed
event stores the same file again instead of a second copy. Only images sent while a form is open
are fetched at all.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

MAX_BYTES = 10 * 1024 * 1024


class ContentStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, ref: str) -> Path:
        name = ref.removeprefix("upload:")
        return self.root / name[:2] / name

    def save(self, message_id: str, data: bytes) -> str:
        if len(data) > MAX_BYTES:
            raise ValueError("content too large")
        ref = "upload:" + hashlib.sha256(f"line-message:{message_id}".encode()).hexdigest()[:32]
        path = self._path(ref)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        return ref

    def load(self, ref: str) -> bytes:
        return self._path(ref).read_bytes()
