"""Helpers shared by the console tests (imported by name: tests run without packages)."""

from __future__ import annotations

import re

PASSWORD = "kawasaki-pass-2026"


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "page without a CSRF token"
    return found.group(1)
