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
import sys
import time
from types import SimpleNamespace

import _common as common

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
    common.add_database_option(parser)
    common.add_count_option(parser, "rows", 10_000, "virtual queues in the table for the main measurement")
    common.add_page_options(parser)
    common.add_tune_gc_option(parser)
    args = parser.parse_args(argv)
    common.require_positive(parser, args, "rows", "pages")
    return args


# --- data --------------------------------------------------------------------------------------------------


def create_fixed_objects() -> SimpleNamespace:
    """Two tenants with a switch each, a few DN folders, a few DNs of another type and a superuser."""
    from configdb.models import DN, DNType, Folder, FolderType

    tenant, other, switch, other_switch = common.create_tenants_and_switches()
    top = Folder.objects.create(tenant=tenant, name="Pacing", folder_type=FolderType.DNS)
    folders = [top] + [
        Folder.objects.create(tenant=tenant, parent=top, name=name, folder_type=FolderType.DNS)
        for name in ("Chat", "Email", "Voice", "Workitems")
    ]
    # DNs of another type, for the proxy's dn_type filter to leave out.
    DN.objects.bulk_create(
        [DN(tenant=tenant, switch=switch, number=f"7{i:03d}", dn_type=DNType.EXTENSION) for i in range(50)]
    )
    user, _key = common.create_superuser()
    return SimpleNamespace(tenant=tenant, switch=switch, folders=folders, other=other, other_switch=other_switch,
                           user=user)


def add_virtual_queues(start: int, stop: int, fixed: SimpleNamespace) -> None:
    """Virtual queues numbered start..stop-1, bulk-created in batches.

    One in ten belongs to the Other tenant; the Environment's are spread over its folders (one in seven in
    none), one in ten is disabled.
    """
    goals = ("3", "5", "10", "20")
    common.add_virtual_queues(start, stop, fixed, fixed.folders, lambda i: goals[i % 4], BATCH_SIZE)
    common.analyze()


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
        common.fail(f"GET {url} answered {response.status_code} {where}".rstrip())
    return response


def measure(client, label: str, url: str, rows: int, repeats: int, show_sql: bool) -> dict:
    response = fetch(client, url)  # warm-up
    shown = response.content.count(b'name="_selected_action"')
    captured = common.captured_queries(lambda: fetch(client, url))
    median, p95 = common.time_ms(lambda: fetch(client, url), repeats)
    if show_sql:
        common.print_queries(f"{label} ({url}), {rows} rows", captured)
    return {
        "page": label, "url": url, "rows": rows, "shown": shown, "queries": len(captured),
        "median": median, "p95": p95,
    }


def measure_all(client, rows: int, tenant_id: int, per_page: int, repeats: int, show_sql: bool) -> list[dict]:
    print(f"measuring {repeats} requests per page with {rows} virtual queues ...", flush=True)
    return [measure(client, label, url, rows, repeats, show_sql) for label, url in
            page_urls(rows, tenant_id, per_page)]


# --- report ------------------------------------------------------------------------------------------------


def report(results: list[dict], phases: list[list[dict]]) -> None:
    print(f"\nAdmin changelist of virtual queues: GET {CHANGELIST_URL} (goal: under {GOAL_MS:.0f} ms per page)\n")
    common.print_table(
        ["page", "url", "rows", "shown", "median ms", "p95 ms", "queries", f"goal < {GOAL_MS:.0f} ms"],
        [[r["page"], r["url"].removeprefix(CHANGELIST_URL) or "/", str(r["rows"]), str(r["shown"]),
          f"{r['median']:.1f}", f"{r['p95']:.1f}", str(r["queries"]),
          common.verdict(r["median"], r["p95"], GOAL_MS)] for r in results],
    )
    if len(phases) == 2:
        small, large = phases
        small_rows, large_rows = small[0]["rows"], large[0]["rows"]
        print(f"\nSQL queries per request, {small_rows} rows vs {large_rows} rows\n")
        common.print_table(
            ["page", f"queries @{small_rows}", f"queries @{large_rows}", "query count"],
            [[a["page"], str(a["queries"]), str(b["queries"]), "constant" if a["queries"] == b["queries"] else
              "GROWS"] for a, b in zip(small, large, strict=True)],
        )
    print(f"\n'shown' = rows listed on the page. goal: 'met' = p95 under {GOAL_MS:.0f} ms, 'median only' = the median "
          "is under it but not the p95. The figures are measurements, not assertions.")


# --- main --------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    from django.contrib import admin
    from django.test import Client

    from configdb.models import VirtualQueue

    common.check_connection(args.database)
    with common.throwaway_database("bench", args.database):
        per_page = admin.site._registry[VirtualQueue].list_per_page
        fixed = create_fixed_objects()
        client = Client()
        client.force_login(fixed.user)
        common.tune_gc(args.tune_gc)
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


def main(argv: list[str] | None = None) -> int:
    return common.run_benchmark("admin_changelist", run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
