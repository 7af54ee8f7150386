"""PACING_TEST_DATABASE_ONLY=1 (CI's PostgreSQL pass, tests/conftest.py) keeps exactly the tests that touch the
database: those of pytest-django's fixtures (also through ours), and those handing the suite's engine to another
process (``scratch_database``); it drops the ones that open none. PACING_TEST_PHASE (``dev.py test``'s two
phases) splits the suite by the ``serial`` marker, every test in exactly one phase."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _collected(*paths: str, database_only: bool = False, phase: str = "") -> set[str]:
    env = {**os.environ, "PACING_TEST_DATABASE_ONLY": "1" if database_only else "", "PACING_TEST_PHASE": phase}
    out = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", *paths],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return {line for line in out.stdout.splitlines() if "::" in line}


def test_the_database_only_pass_keeps_the_database_tests_and_drops_the_others():
    paths = ("tests/pacing/test_engine.py", "tests/configdb/test_demo.py", "tests/alarms/test_runtime.py")
    everything = _collected(*paths, database_only=False)
    kept = _collected(*paths, database_only=True)
    assert kept < everything
    assert not any(t.startswith("tests/pacing/test_engine.py") for t in kept)          # numpy only
    demo = {t for t in everything if t.startswith("tests/configdb/test_demo.py")}
    assert demo and demo <= kept                                                        # the `demo` fixture: db
    assert any("test_two_processes_raising_at_once" in t for t in kept)                # scratch_database


def test_the_two_phases_split_the_suite_by_the_serial_marker():
    paths = ("tests/pacing/test_lease.py", "tests/configdb/test_demo.py", "tests/chaos/test_node_monitor.py")
    everything = _collected(*paths)
    parallel, serial = _collected(*paths, phase="parallel"), _collected(*paths, phase="serial")
    assert parallel | serial == everything and not parallel & serial
    assert {t.split("::")[0] for t in serial} == {"tests/pacing/test_lease.py", "tests/chaos/test_node_monitor.py"}
    assert parallel and all(t.startswith("tests/configdb/test_demo.py") for t in parallel)
