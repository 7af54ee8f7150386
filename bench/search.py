#!/usr/bin/env python3
"""Benchmark: the API's ``?q=`` search over 100,000 virtual queues on PostgreSQL, with and without the trigram
indexes of migration configdb/0005 (issue 14: under 100 ms).

Creates a throw-away test database (the real database's tables are never touched), fills it with ``--queues``
virtual queues ("Queue NNNNN", alias the same), and times ``GET /api/v1/virtual-queues/?q=…&limit=50`` through
django.test.Client (a superuser's session) for a few terms: a rare one (one queue), a selective one (ten), a
common one (thousands) and one that matches nothing; then drops the trigram indexes and times the same pages
again (a sequential scan of the table per request), then puts them back. Each answer's count is checked against
the table. Prints figures only; exits 0 whatever they are (non-zero when something fails).

    python3 dev.py bench search [--queues 100000] [--pages 30] [--database URL]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

import _common as common

GOAL_MS = 100.0
BATCH_SIZE = 5000
TERMS = (("rare (1 queue)", "Queue 04217", 1), ("selective (10)", "Queue 0421", 10),
         ("common (1,000)", "ueue 04", 1000), ("none", "no such queue", 0), ("every queue", "queue", None))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="search", description=__doc__.split("\n\n")[0])
    common.add_database_option(parser)
    common.add_count_option(parser, "queues", 100_000, "virtual queues in the table")
    common.add_count_option(parser, "pages", 30, "timed requests per search")
    args = parser.parse_args(argv)
    common.require_positive(parser, args, "queues", "pages")
    if args.database == "sqlite":
        parser.error("--database: the trigram indexes are PostgreSQL's; give a PostgreSQL URL")
    return args


def expected(term: str, queues: int) -> int:
    needle = term.upper()
    return sum(needle in f"QUEUE {i:05d}" for i in range(queues))


def measure(client, queues: int, repeats: int) -> list[dict]:
    import orjson

    rows = []
    for label, term, _ in TERMS:
        url = f"/api/v1/virtual-queues/?limit=50&q={term.replace(' ', '+')}"
        response = client.get(url)
        if response.status_code != 200:
            common.fail(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
        count = orjson.loads(response.content)["count"]
        if count != expected(term, queues):
            common.fail(f"GET {url}: count {count}, expected {expected(term, queues)}")
        median, p95 = common.time_ms(lambda url=url: client.get(url), repeats)
        rows.append({"label": label, "term": term, "count": count, "median": median, "p95": p95})
    return rows


def set_indexes(present: bool) -> None:
    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("configdb.migrations.0005_search_trigram_indexes")
    with connection.schema_editor() as editor:
        (migration.create if present else migration.drop)(apps, editor)
    common.analyze()


def run(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test import Client

    common.check_connection(args.database)
    with common.throwaway_database("bench_search", args.database):
        if connection.vendor != "postgresql":
            common.fail("the search bench needs PostgreSQL")
        tenant, other, switch, other_switch = common.create_tenants_and_switches()
        from types import SimpleNamespace

        fixed = SimpleNamespace(tenant=tenant, other=other, switch=switch, other_switch=other_switch)
        started = time.perf_counter()
        common.add_virtual_queues(0, args.queues, fixed, [None], lambda i: "3", BATCH_SIZE)
        common.analyze()
        print(f"populated {args.queues:,} virtual queues in {time.perf_counter() - started:.1f} s", flush=True)
        user, _ = common.create_superuser()
        client = Client()
        client.force_login(user)
        with_index = measure(client, args.queues, args.pages)
        set_indexes(False)
        without = measure(client, args.queues, args.pages)
        set_indexes(True)
    print(f"\nGET /api/v1/virtual-queues/?limit=50&q=TERM, {args.queues:,} virtual queues, PostgreSQL, "
          f"{args.pages} requests each (median / p95 ms)\n")
    common.print_table(
        ["search", "term", "count", "trigram index: median", "p95", "goal", "no index: median", "p95"],
        [[w["label"], repr(w["term"]), f"{w['count']:,}", f"{w['median']:.1f}", f"{w['p95']:.1f}",
          common.verdict(w["median"], w["p95"], GOAL_MS), f"{n['median']:.1f}", f"{n['p95']:.1f}"]
         for w, n in zip(with_index, without, strict=True)])


def main(argv: list[str] | None = None) -> int:
    return common.run_benchmark("search", run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
