"""What the benchmark scripts share: percentiles, a raw HTTP/1.1 response reader, the machine line
and Markdown tables (the scripts run as `python bench/<name>.py`, so this imports as `benchlib`)."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, whether the server keeps the connection open) of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
    return status, b"connection: close" not in head.lower()


def machine() -> str:
    cpu = subprocess.run(["sh", "-c", "lscpu | grep 'Model name' | cut -d: -f2"], capture_output=True,
                         text=True).stdout.strip()
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def table(rows: list[dict]) -> str:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
