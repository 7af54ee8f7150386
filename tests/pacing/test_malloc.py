"""pacing/malloc.py: the allocator thresholds a pacing node sets once per process."""

import ctypes.util
import subprocess
import sys

from pacing import malloc


def test_keep_freed_memory_is_set_once_and_reports_glibc():
    """In a fresh process (the setting is per process and cannot be undone): True on glibc, the same answer
    when called again, and never an exception elsewhere."""
    code = ("from pacing.malloc import keep_freed_memory as k; a = k(); b = k(); "
            "print(a, b)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    first, second = out.stdout.split()
    assert first == second
    if sys.platform.startswith("linux") and "libc.so.6" in (ctypes.util.find_library("c") or ""):
        assert first == "True"


def test_the_celery_worker_sets_it():
    """The pacing node's process (the Celery worker and its pool children) calls it when it starts."""
    from celery import signals

    from pacingsite import celery as node

    for signal in (signals.celeryd_init, signals.worker_process_init):
        receivers = [ref() for _key, ref in signal.receivers]
        assert node._engine_memory in receivers
    assert malloc.MMAP_THRESHOLD < malloc.TRIM_THRESHOLD
