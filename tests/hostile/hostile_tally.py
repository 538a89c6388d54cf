"""Counts of hostile inputs tried, per family, printed at the end of the run (figures for docs/)."""

from __future__ import annotations

import json
import os
import time
from collections import Counter

TRIED: Counter[str] = Counter()
SECONDS: dict[str, float] = {}


def tried(family: str, n: int = 1) -> None:
    TRIED[family] += n


class timed:
    """Context manager adding wall time to a test's entry in SECONDS."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> timed:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        SECONDS[self.name] = SECONDS.get(self.name, 0.0) + time.monotonic() - self.start


def report_lines() -> list[str]:
    lines = [f"{family:<40} {count:>7}" for family, count in sorted(TRIED.items())]
    lines.append(f"{'total':<40} {sum(TRIED.values()):>7}")
    lines += [f"time {name:<35} {secs:>7.1f} s" for name, secs in sorted(SECONDS.items())]
    path = os.environ.get("HOSTILE_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"tried": dict(TRIED), "seconds": SECONDS}, fh, indent=1, sort_keys=True)
    return lines
