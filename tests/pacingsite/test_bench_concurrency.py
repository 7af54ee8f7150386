"""The concurrency bench's core, small and short (bench/concurrency.py; the figures are in bench/README.md): 4 clients
for 3 s through a real gunicorn on a file SQLite — creates, PATCHes of different fields of the same queues,
deletes, bulk creates, renames and same-name races — then not one 5xx, lost write or duplicate, and gunicorn's
process group gone. Behaviour only: nothing about timings.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from .test_metrics_multiprocess import ROOT

#: a real gunicorn under concurrent clients: alone, after the parallel workers (tests/conftest.py)
pytestmark = pytest.mark.serial

BENCH = ROOT / "bench"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # the bench imports its helpers as `_common`
    spec = importlib.util.spec_from_file_location("bench_concurrency", BENCH / "concurrency.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_concurrency", module)
    spec.loader.exec_module(module)
    return module


def test_concurrent_clients_get_no_5xx_and_lose_no_write_and_make_no_duplicate(bench):
    result = bench.run_sqlite(clients=4, seconds=3, workers=2, port=None, seed=3, quiet=True)
    counts = result.findings.counts
    examples = dict(result.findings.examples)
    assert result.status_count(500, 600) == 0, examples
    assert result.no_answer == 0, [a.body for a in result.answers if a.status is None][:3]
    for check, meaning in bench.CHECKS:  # lost writes, chain breaks, duplicates, phantom writes, …
        assert counts[check] == 0, (check, meaning, examples.get(check))
    # the load ran: requests answered, acknowledged PATCHes checked against the history
    assert result.requests >= 10
    assert result.findings.checked_patches >= 1
    # gunicorn and its workers were stopped by their process group
    with pytest.raises(ProcessLookupError):
        os.killpg(result.server_pid, 0)
