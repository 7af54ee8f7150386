#!/usr/bin/env python3
"""Benchmark: the admin changelist of virtual queues (/admin/configdb/virtualqueue/) on a large table.

Creates a throw-away test database the way Django's test runner does (the real database's tables are
never touched), fills it with virtual queues, and times GET requests of the changelist through
django.test.Client: the first page, a middle page, a search and two filters. Each page is measured with
a small table (100 rows) and with the full one (--rows), and the SQL query counts of both are printed
side by side to show whether they stay constant as the table grows.

Prints figures only: it asserts nothing about timings and exits 0 whatever they are (non-zero only when
something fails, e.g. PostgreSQL is unreachable or a page does not answer 200).

    python3 dev.py bench admin_changelist [--rows 10000] [--pages 30] [--database URL] [--sql] [--tune-gc]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/test"
CHANGELIST_URL = "/admin/configdb/virtualqueue/"
GOAL_MS = 150.0
SMALL_ROWS = 100
BATCH_SIZE = 1000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="admin_changelist",
        description="Time the admin changelist of virtual queues with many rows, on a throw-away test "
                    "database (test_<name>_bench, created and dropped by this script). Prints median and "
                    f"p95 milliseconds per page and SQL queries per request; the goal is under {GOAL_MS:.0f} "
                    "ms per page. Figures only: exits 0 whatever they are.",
    )
    parser.add_argument(
        "--database", metavar="URL",
        default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
        help="database server to use, as a DATABASE_URL; only a test database derived from its name is "
             f"written to (default: $BENCH_DATABASE_URL, else {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument("--rows", type=int, default=10_000, metavar="N",
                        help="virtual queues in the table for the main measurement (default %(default)s)")
    parser.add_argument("--pages", type=int, default=30, metavar="N",
                        help="timed requests per page, after one warm-up request (default %(default)s)")
    parser.add_argument("--sql", action="store_true",
                        help="also print the SQL of one request of each page at the full row count")
    parser.add_argument("--no-tune-gc", dest="tune_gc", action="store_false",
                        help="leave CPython's garbage collector as it is; by default the benchmark tunes it as "
                             "the product's gunicorn post_fork hook does (pacingsite/gunicorn_conf.py)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    if args.pages < 1:
        parser.error("--pages must be at least 1")
    return args


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def fail(message: str) -> None:
    sys.exit(f"admin_changelist: {message}")


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "pacingsite.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# --- data --------------------------------------------------------------------------------------------------


def create_fixed_objects() -> SimpleNamespace:
    """Two tenants with a switch each, a few DN folders, a few DNs of another type and a superuser."""
    from django.contrib.auth import get_user_model

    from configdb.models import DN, DNType, Folder, FolderType, Switch, Tenant

    tenant, _ = Tenant.objects.get_or_create(name="Environment")
    other, _ = Tenant.objects.get_or_create(name="Other")
    switch = Switch.objects.create(tenant=tenant, name="SIP_Switch", switch_type="sip")
    other_switch = Switch.objects.create(tenant=other, name="Other_Switch", switch_type="sip")
    top = Folder.objects.create(tenant=tenant, name="Pacing", folder_type=FolderType.DNS)
    folders = [top] + [
        Folder.objects.create(tenant=tenant, parent=top, name=name, folder_type=FolderType.DNS)
        for name in ("Chat", "Email", "Voice", "Workitems")
    ]
    # DNs of another type, for the proxy's dn_type filter to leave out.
    DN.objects.bulk_create(
        [DN(tenant=tenant, switch=switch, number=f"7{i:03d}", dn_type=DNType.EXTENSION) for i in range(50)]
    )
    user = get_user_model().objects.create_user("bench", "bench@example.com", is_staff=True, is_superuser=True)
    return SimpleNamespace(tenant=tenant, switch=switch, folders=folders, other=other, other_switch=other_switch,
                           user=user)


def add_virtual_queues(start: int, stop: int, fixed: SimpleNamespace) -> None:
    """Virtual queues numbered start..stop-1, bulk-created in batches.

    One in ten belongs to the Other tenant; the Environment's are spread over its folders (one in seven in
    none), one in ten is disabled.
    """
    from configdb.models import DNType, State, VirtualQueue

    media = ("chat", "email", "voice", "workitem")
    goals = ("3", "5", "10", "20")
    for first in range(start, stop, BATCH_SIZE):
        batch = []
        for i in range(first, min(first + BATCH_SIZE, stop)):
            number = f"Queue {i:05d}"
            mine = i % 10 != 5
            batch.append(VirtualQueue(
                tenant=fixed.tenant if mine else fixed.other, switch=fixed.switch if mine else fixed.other_switch,
                number=number, alias=number, dn_type=DNType.VIRTUAL_QUEUE,
                folder=fixed.folders[i % len(fixed.folders)] if mine and i % 7 else None,
                state=State.DISABLED if i % 10 == 0 else State.ENABLED,
                options={"pacing": {"media": media[i % 4], "optimizationGoal": goals[i % 4]}},
            ))
        VirtualQueue.objects.bulk_create(batch, batch_size=BATCH_SIZE)
    analyze()


def analyze() -> None:
    """Vacuum and refresh the planner's statistics, as autovacuum would on a live database (and so that
    autovacuum does not start in the middle of the measurements)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


# --- measurement -------------------------------------------------------------------------------------------


def page_urls(rows_in_table: int, tenant_id: int, per_page: int) -> list[tuple[str, str]]:
    pages = max(1, math.ceil(rows_in_table / per_page))
    return [
        ("first page", CHANGELIST_URL),
        ("middle page", f"{CHANGELIST_URL}?p={max(1, pages // 2)}"),
        ("search", f"{CHANGELIST_URL}?q=Queue+05"),
        ("filter state", f"{CHANGELIST_URL}?state__exact=enabled"),
        ("filter tenant", f"{CHANGELIST_URL}?tenant__id__exact={tenant_id}"),
    ]


def fetch(client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        where = response.get("Location", "")
        fail(f"GET {url} answered {response.status_code} {where}".rstrip())
    return response


def measure(client, label: str, url: str, rows: int, repeats: int, show_sql: bool) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = fetch(client, url)  # warm-up
    shown = response.content.count(b'name="_selected_action"')
    with CaptureQueriesContext(connection) as context:
        fetch(client, url)
    captured = context.captured_queries  # now: the log is read lazily and the next request clears it
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        fetch(client, url)
        timings.append((time.perf_counter() - started) * 1000)
    if show_sql:
        print(f"\n-- {label} ({url}), {rows} rows: {len(captured)} queries")
        for number, query in enumerate(captured, 1):
            print(f"{number:>3}. [{float(query['time']) * 1000:6.1f} ms] {query['sql']}")
    return {
        "page": label, "url": url, "rows": rows, "shown": shown, "queries": len(captured),
        "median": statistics.median(timings), "p95": percentile(timings, 0.95),
    }


def measure_all(client, rows: int, tenant_id: int, per_page: int, repeats: int, show_sql: bool) -> list[dict]:
    print(f"measuring {repeats} requests per page with {rows} virtual queues ...", flush=True)
    return [measure(client, label, url, rows, repeats, show_sql) for label, url in
            page_urls(rows, tenant_id, per_page)]


# --- report ------------------------------------------------------------------------------------------------


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = " | ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))


def verdict(result: dict) -> str:
    if result["p95"] < GOAL_MS:
        return "met"
    return "median only" if result["median"] < GOAL_MS else "MISSED"


def report(results: list[dict], phases: list[list[dict]]) -> None:
    print(f"\nAdmin changelist of virtual queues: GET {CHANGELIST_URL} (goal: under {GOAL_MS:.0f} ms per page)\n")
    print_table(
        ["page", "url", "rows", "shown", "median ms", "p95 ms", "queries", f"goal < {GOAL_MS:.0f} ms"],
        [[r["page"], r["url"].removeprefix(CHANGELIST_URL) or "/", str(r["rows"]), str(r["shown"]),
          f"{r['median']:.1f}", f"{r['p95']:.1f}", str(r["queries"]),
          verdict(r)] for r in results],
    )
    if len(phases) == 2:
        small, large = phases
        small_rows, large_rows = small[0]["rows"], large[0]["rows"]
        print(f"\nSQL queries per request, {small_rows} rows vs {large_rows} rows\n")
        print_table(
            ["page", f"queries @{small_rows}", f"queries @{large_rows}", "query count"],
            [[a["page"], str(a["queries"]), str(b["queries"]), "constant" if a["queries"] == b["queries"] else
              "GROWS"] for a, b in zip(small, large, strict=True)],
        )
    print(f"\n'shown' = rows listed on the page. goal: 'met' = p95 under {GOAL_MS:.0f} ms, 'median only' = the median "
          "is under it but not the p95. The figures are measurements, not assertions.")


# --- main --------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    from django.contrib import admin
    from django.db import connection
    from django.db.utils import OperationalError
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment

    from configdb.models import VirtualQueue

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(f"cannot connect to {redact(args.database)}: {first_line}")
    connection.close()

    # A name of our own, so a concurrent `pytest` on the same server (test_<name>) is never clobbered.
    connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_bench"
    setup_test_environment()  # adds "testserver" to ALLOWED_HOSTS, as the test runner does
    old_name = connection.settings_dict["NAME"]
    print(f"creating the throw-away database {connection.settings_dict['TEST']['NAME']} "
          f"on {connection.vendor} ({redact(args.database)}) ...", flush=True)
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    except OperationalError as exc:
        teardown_test_environment()
        fail(f"cannot create the test database: {str(exc).strip().splitlines()[0]}")
    try:
        per_page = admin.site._registry[VirtualQueue].list_per_page
        fixed = create_fixed_objects()
        client = Client()
        client.force_login(fixed.user)
        if args.tune_gc:
            from pacingsite.gunicorn_conf import tune_gc

            tune_gc()
        phases = []
        small = min(SMALL_ROWS, args.rows)
        started = time.perf_counter()
        add_virtual_queues(0, small, fixed)
        seconds = time.perf_counter() - started
        if small < args.rows:
            phases.append(measure_all(client, small, fixed.tenant.pk, per_page, args.pages, show_sql=False))
            started = time.perf_counter()
            add_virtual_queues(small, args.rows, fixed)
            seconds += time.perf_counter() - started
        print(f"populated {args.rows} virtual queues in {seconds:.1f} s (bulk_create, batches of {BATCH_SIZE})",
              flush=True)
        phases.append(measure_all(client, args.rows, fixed.tenant.pk, per_page, args.pages, show_sql=args.sql))
        report([r for phase in phases for r in phase], phases)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_django(args.database)
    try:
        run(args)
    except KeyboardInterrupt:
        print("admin_changelist: interrupted (the test database was dropped)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
