"""The product runs on its declared dependencies alone, not on what the test tools happen to install.

``python3 dev.py run`` installs ``pacing-console`` without the ``test`` extra; the suite runs in a venv that
has it. A package the product imports but does not declare (directly or through a dependency's
requirements) is then present under test and missing on a user's machine: kombu 5.7's Redis transport
imports ``packaging``, which only pytest brought, and every pacing node exited at start on a fresh clone.

This test computes the closure of the runtime requirements from the installed metadata and, in a child
process, refuses every import of a third-party top-level module outside it, then imports what the web
process and a pacing node import (Django set up, the Celery app, the Redis transport, the tasks, the URL
configuration).
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "pacing-console"

# What a web process and a pacing node import at start (pacingsite.celery loads the tasks of every app).
ENTRY_IMPORTS = [
    "pacingsite.wsgi",
    "pacingsite.urls",
    "pacingsite.celery",
    "kombu.transport.redis",
    "pacing.tasks",
    "pacing.cycle",
    "alarms.runtime",
    "configdb.transfer",
]


def runtime_closure(project: str = PROJECT) -> set[str]:
    """Canonical names of the distributions the project needs without extras, and their needs, recursively
    (a requirement's extras followed, its environment markers evaluated for this interpreter)."""
    needed: set[str] = set()
    visited: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [(project, frozenset())]
    while todo:
        name, extras = todo.pop()
        if (canonicalize_name(name), extras) in visited:
            continue
        visited.add((canonicalize_name(name), extras))
        needed.add(canonicalize_name(name))
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue  # not installed here (e.g. a requirement of another platform): nothing to follow
        for line in requires:
            req = Requirement(line)
            if req.marker is not None and not any(
                    req.marker.evaluate({**default_environment(), "extra": extra}) for extra in (extras or {""})):
                continue
            todo.append((req.name, frozenset(req.extras)))
    return needed


CHILD = r"""
import importlib, importlib.abc, importlib.metadata, json, os, sys
allowed = set(json.loads(sys.argv[1]))
entries = json.loads(sys.argv[2])
owners = importlib.metadata.packages_distributions()
canon = lambda n: n.lower().replace("_", "-").replace(".", "-")
local = {"pacingsite", "provisioning", "pacing", "alarms", "configdb", "bench", "tests", "manage", "dev"}
refused = []

class Guard(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top in local or top not in owners:
            return None
        dists = {canon(d) for d in owners[top]}
        if dists & allowed:
            return None
        refused.append(f"{name} (from {', '.join(sorted(dists))})")
        raise ModuleNotFoundError(f"No module named {name!r} (not a runtime dependency)", name=name)

sys.meta_path.insert(0, Guard())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacingsite.settings")
import django
django.setup()
failures = []
for entry in entries:
    try:
        importlib.import_module(entry)
    except Exception as exc:
        failures.append(f"{entry}: {type(exc).__name__}: {exc}")
print(json.dumps({"failures": failures, "refused": sorted(set(refused))}))
"""


def test_the_product_imports_on_its_runtime_dependencies_alone():
    allowed = runtime_closure()
    assert "celery" in allowed and "django" in allowed            # the closure was read from the metadata
    assert "pytest" not in allowed and "hypothesis" not in allowed  # and the test extra left out
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(sorted(allowed)), json.dumps(ENTRY_IMPORTS)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["failures"] == [], (
        "these imports need packages the product does not declare (add them to pyproject.toml's "
        f"dependencies): {report['failures']}; refused: {report['refused']}")
