"""Keep the C allocator from handing the pacing cycle's scratch memory back to the OS after every block.

The engine (pacing/engine.py) works on blocks of up to 32,768 targets: every numpy temporary is up to 256 KiB,
above glibc's default mmap threshold (128 KiB), and every block frees a few megabytes at the top of the heap,
which glibc then trims (its default trim threshold is 128 KiB). The next block faults the same pages in again: on
100,000 targets about half of ``compute_invitations``' time went to page faults (bench/engine.py prints
both figures). Fixing the two thresholds (``mallopt``) keeps that memory in the process: the engine's
working set is a few MB, reused every cycle, and the cost is that a pacing node keeps what it freed up to
``TRIM_THRESHOLD`` instead of returning it at once.

Called once per process where the cycle runs (the Celery worker of a pacing node: pacingsite/celery.py)
and by the benchmarks that measure the engine as a node runs it. A no-op where the C library is not glibc
(musl, macOS, Windows). The decision and the figures are OURS (docs/pacing.md, "Speed").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

logger = logging.getLogger("pacing.malloc")

#: allocations below this come from the heap (glibc's M_MMAP_THRESHOLD; fixing it also stops its dynamic
#: adjustment)
MMAP_THRESHOLD = 32 * 1024 * 1024
#: free memory at the top of the heap is returned to the OS only beyond this (glibc's M_TRIM_THRESHOLD)
TRIM_THRESHOLD = 256 * 1024 * 1024

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_lock = threading.Lock()
_done: bool | None = None


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds once per process; True when they are set (False: not glibc)."""
    global _done
    with _lock:
        if _done is not None:
            return _done
        _done = False
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):
            return False
        mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        mallopt.restype = ctypes.c_int
        _done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
        if not _done:
            logger.info("mallopt refused the allocator thresholds; the engine runs with the C library's defaults")
        return _done
