"""bot/nlu/mapped_pages.py: pages touched while loading a read-only map leave the RSS, the data stays."""

from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.nlu.mapped_pages import release_loaded_pages

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and madvise are Linux's")


def _mapped_rss_kb(path: Path) -> int:
    total, current = 0, False
    with open("/proc/self/smaps", encoding="utf-8") as fh:
        for line in fh:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and ":" in head[3]:
                current = len(head) == 6 and head[5] == str(path.resolve())
            elif current and line.startswith("Rss:"):
                total += int(head[1])
    return total


def test_a_read_only_map_gives_back_its_pages_and_still_reads_the_same_bytes(tmp_path: Path) -> None:
    data = os.urandom(8 << 20)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
        assert sum(view[i] for i in range(0, len(view), 4096)) >= 0  # touch every page
        assert _mapped_rss_kb(path) >= 8 * 1024 * 0.9
        assert release_loaded_pages(str(path)) == len(data)
        assert _mapped_rss_kb(path) < 512
        assert view[:] == data  # faulted back in from the file, unchanged
        assert release_loaded_pages(str(tmp_path / "not-mapped.bin")) == 0


def test_a_writable_map_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "rw.bin"
    path.write_bytes(b"\0" * (1 << 20))
    with path.open("r+b") as fh, mmap.mmap(fh.fileno(), 0) as view:
        view[:5] = b"hello"
        assert release_loaded_pages(str(path)) == 0
        assert view[:5] == b"hello"


def test_the_sudachi_dictionary_is_opened_without_its_load_pages_and_read_at_random() -> None:
    probe = """
import json, os
from bot.nlu.normalize import _TOKENIZER, system_dictionary_path, tokens
_TOKENIZER.get()  # opens the dictionary (which reads a third of it) and gives the pages back
path = os.path.realpath(system_dictionary_path())
rss, flags, cur = 0, [], False
for line in open("/proc/self/smaps"):
    head = line.split()
    if head and "-" in head[0] and len(head) >= 5 and ":" in head[3]:
        cur = len(head) == 6 and head[5] == path
    elif cur and line.startswith("Rss:"):
        rss += int(head[1])
    elif cur and line.startswith("VmFlags:"):
        flags.append(head[1:])
print(json.dumps({"rss_kb": rss, "size_kb": os.path.getsize(path) // 1024, "flags": flags,
                  "tokens": tokens("ソファを捨てたいです")}))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # Opening reads 25-37 % of the file; afterwards (later lookups aside) nothing of it is mapped.
    assert result["rss_kb"] < 0.01 * result["size_kb"], result
    assert result["flags"] and all("rr" in f for f in result["flags"]), result  # MADV_RANDOM
    assert "そふぁ" in result["tokens"] and "捨てる" in result["tokens"]
