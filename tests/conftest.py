"""Fixtures shared by every test folder, and the database-only selection of a second pass.

``PACING_TEST_DATABASE_ONLY=1`` keeps only the tests that touch the suite's database: CI runs the whole suite on
SQLite, then again on PostgreSQL with this set (.ci/run), because a test that opens no database (the engine, the
parsers, the chaos tests with their own SQLite file, the settings) gives the same answer on both and would only
add minutes. A test uses the database when it asks for pytest-django's ``db``/``transactional_db``/``live_server``
(directly or through another fixture), carries ``django_db``, or is marked ``database`` (a subprocess that opens
the suite's engine itself, e.g. ``scratch_database``).

``PACING_TEST_PHASE=parallel`` / ``serial`` keeps the tests without / with the ``serial`` marker: ``dev.py test``
runs the first under pytest-xdist's workers and the second alone afterwards, because a serial test measures time
against real processes (the chaos tests' leases and restarts, ``dev.py run``'s start-up) and must not share the
machine's cores with another worker.
"""

import io
import os

import pytest
from django.core.management import call_command

from configdb.models import Tenant


@pytest.fixture
def env_tenant(db):
    """The Environment tenant."""
    return Tenant.objects.get_or_create(name="Environment")[0]


@pytest.fixture
def other_tenant(db):
    return Tenant.objects.get_or_create(name="Other")[0]


@pytest.fixture
def demo(db):
    """The demo configuration, loaded through the command an administrator runs."""
    call_command("load_demo", stdout=io.StringIO())
    return Tenant.objects.get(name="Environment")


#: fixtures that reach the suite's database (pytest-django's, and ours that hand it to another process)
DATABASE_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                               "live_server", "scratch_database"})


def uses_database(item) -> bool:
    return (item.get_closest_marker("django_db") is not None or item.get_closest_marker("database") is not None
            or not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())))


def keep(item) -> bool:
    """Whether the environment's selection (database-only pass, parallel or serial phase) keeps ``item``."""
    if os.environ.get("PACING_TEST_DATABASE_ONLY") == "1" and not uses_database(item):
        return False
    phase = os.environ.get("PACING_TEST_PHASE", "")
    if phase in ("parallel", "serial"):
        return (item.get_closest_marker("serial") is not None) == (phase == "serial")
    return True


def pytest_collection_modifyitems(config, items):
    kept = [item for item in items if keep(item)]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if not keep(item)])
        items[:] = kept


def pytest_report_header(config):
    lines = []
    if os.environ.get("PACING_TEST_DATABASE_ONLY") == "1":
        lines.append("PACING_TEST_DATABASE_ONLY=1: only the tests that touch the database (the others ran on SQLite)")
    phase = os.environ.get("PACING_TEST_PHASE", "")
    if phase in ("parallel", "serial"):
        lines.append(f"PACING_TEST_PHASE={phase}: only the tests {'with' if phase == 'serial' else 'without'} "
                     "the serial marker")
    return lines or None
