"""Keep only the working set of a large read-only memory-mapped file in RAM.

SudachiPy maps its system dictionary (202 MB for `core`) and, when the dictionary is opened, reads
~74 MB of it once. After that, tokenizing reads it at random: a lattice looks up the connection
matrix and the lexicon all over the file. Two things inflated the process's RSS:

- the pages read while opening stay mapped although most are never needed again;
- pages are mapped in whole page-cache folios. When the file was written with large writes (a
  fresh `pip install`) or read ahead, a folio can be up to 2 MB, and a lookup that needs 4 KB maps
  all of it: tokenizing the 3,280 training texts mapped 183 MB of the map instead of 121 MB.

`release_loaded_pages` unmaps the mapping's pages (`MADV_DONTNEED`), drops the file's unmapped
pages from the page cache (`POSIX_FADV_DONTNEED`: clean pages only, and never pages another process
has mapped), and advises random access (`MADV_RANDOM`: no read-ahead), so later lookups bring the
file back page by page: 100 MB of the map after the same texts, whatever state the cache was in. The
cost is a disk read the first time a page is needed (~0.1 ms per text during the first pass over a
new vocabulary, on this machine's disk). The data is never changed: only read-only maps are touched.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

log = logging.getLogger(__name__)

_MADV_RANDOM = 1
_MADV_DONTNEED = 4


def _read_only_ranges(path: str) -> list[tuple[int, int]]:
    path = os.path.realpath(path)  # the kernel lists the canonical path
    ranges = []
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parts = line.split(maxsplit=5)
            # address perms offset dev inode path; never a writable map, whose pages may hold changes
            if len(parts) == 6 and parts[5].rstrip("\n") == path and "w" not in parts[1]:
                start, end = parts[0].split("-")
                ranges.append((int(start, 16), int(end, 16)))
    return ranges


def release_loaded_pages(path: str) -> int:
    """Give back the mapped pages of the read-only maps of `path` and read it at random from now on.

    Returns the bytes of the maps advised (0 off Linux, or when `path` is not mapped read-only).
    """
    if not sys.platform.startswith("linux"):
        return 0
    try:
        ranges = _read_only_ranges(path)
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        done = 0
        for start, end in ranges:
            if libc.madvise(start, end - start, _MADV_DONTNEED) == 0:
                done += end - start
            else:
                log.debug("madvise(%s) failed: errno %d", path, ctypes.get_errno())
        if done:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
            for start, end in ranges:
                libc.madvise(start, end - start, _MADV_RANDOM)
        return done
    except OSError as exc:  # no /proc or no libc: keep the pages, nothing else changes
        log.debug("could not release the pages of %s: %s", path, exc)
        return 0
