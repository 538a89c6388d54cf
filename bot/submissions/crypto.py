"""Encryption at rest for residents' personal answers (Fernet, key from the environment).

`KB_DATA_KEY` holds a Fernet key (or several, comma-separated, newest first, for rotation).
On embedded defaults a key is created once under var/ so a local run works out of the box.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet


def load_cipher(var_dir: Path) -> MultiFernet:
    raw = os.environ.get("KB_DATA_KEY", "").strip()
    if not raw:
        key_file = var_dir / "data.key"
        if not key_file.exists():
            var_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_bytes(Fernet.generate_key())
            key_file.chmod(0o600)
        raw = key_file.read_text().strip()
    return MultiFernet([Fernet(k.strip().encode()) for k in raw.split(",") if k.strip()])


def encrypt_json(cipher: MultiFernet, value: dict) -> str:
    return cipher.encrypt(json.dumps(value, ensure_ascii=False).encode()).decode()


def decrypt_json(cipher: MultiFernet, token: str) -> dict:
    return json.loads(cipher.decrypt(token.encode()))
