#!/usr/bin/env python3
"""Benchmark: one bulk create of virtual queues through the REST API (POST a list to /api/v1/virtual-queues/).

Creates a throw-away test database the way Django's test runner does (the real database's tables are
never touched), then POSTs one JSON list of --records virtual queues (the switch and the folder named, not
given by id) through django.test.Client with an API token, and prints the seconds the request took, the
SQL statements it issued (by kind and table) and the time per record. It then counts the rows written.

Prints figures only: it asserts nothing about timings and exits 0 whatever they are (non-zero only when
something fails, e.g. PostgreSQL is unreachable or the request does not answer 201).

    python3 dev.py bench api_bulk [--records 10000] [--runs 1] [--database URL] [--profile]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from types import SimpleNamespace

import _common as common

URL = "/api/v1/virtual-queues/"
GOAL_SECONDS = 15.0
TABLE = re.compile(r'^\s*(?:SELECT\b.*?\bFROM|INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?',
                   re.IGNORECASE | re.DOTALL)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="api_bulk",
        description="Time one POST of a list of virtual queues to the REST API on a throw-away test database "
                    "(test_<name>_bench_bulk, created and dropped by this script). Prints the seconds, the SQL "
                    f"statements issued and the time per record; the goal is under {GOAL_SECONDS:.0f} s for "
                    "10,000 records. Figures only: exits 0 whatever they are.",
    )
    common.add_database_option(parser)
    common.add_count_option(parser, "records", 10_000, "virtual queues in the one POSTed list")
    common.add_count_option(parser, "runs", 1, "POST the list this many times, deleting what it created in between")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile summary of the (last) request")
    common.add_tune_gc_option(parser)
    args = parser.parse_args(argv)
    common.require_positive(parser, args, "records", "runs")
    return args


# --- data --------------------------------------------------------------------------------------------------


def create_fixed_objects() -> SimpleNamespace:
    """Two tenants with a switch each, DN folders, a few DNs of another type, a superuser and its token."""
    from configdb.models import DN, DNType, Folder, FolderType

    tenant, _other, switch, _other_switch = common.create_tenants_and_switches()
    for name in ("Chat", "Email", "Voice", "Workitems"):
        Folder.objects.create(tenant=tenant, name=name, folder_type=FolderType.DNS)
    DN.objects.bulk_create(
        [DN(tenant=tenant, switch=switch, number=f"7{i:03d}", dn_type=DNType.EXTENSION) for i in range(50)]
    )
    user, key = common.create_superuser(key_description="api_bulk benchmark")
    return SimpleNamespace(tenant=tenant, user=user, key=key)


def records(count: int) -> list[dict]:
    """What a provisioning script sends: the switch and the folder by name, pacing options, one in ten
    disabled, every other one filed in a folder."""
    media = ("chat", "email", "voice", "workitem")
    folders = ("Chat", "Email", "Voice", "Workitems")
    out = []
    for i in range(count):
        number = f"Bulk {i:06d}"
        record = {"switch": "SIP_Switch", "number": number, "alias": number,
                  "options": {"pacing": {"media": media[i % 4], "optimizationGoal": str(3 + i % 4)}}}
        if i % 2:
            record["folder"] = folders[i % 4]
        if i % 10 == 0:
            record["state"] = "disabled"
        out.append(record)
    return out


def clean_up() -> None:
    """Delete what a run created (queues and their history rows), so the next run starts the same."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM configdb_objectchange")
        cursor.execute("DELETE FROM configdb_dn WHERE number LIKE 'Bulk %%'")
    common.analyze()


# --- measurement -------------------------------------------------------------------------------------------


class StatementCounter:
    """A connection.execute_wrapper: counts statements by kind and table, and their time (cheap enough to
    leave on while timing)."""

    def __init__(self):
        self.kinds: Counter[str] = Counter()
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.kinds[self.classify(sql)] += 1

    @staticmethod
    def classify(sql: str) -> str:
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
            return f"{verb} (savepoint)" if "SAVEPOINT" in sql.upper() else verb
        match = TABLE.match(sql)
        if verb == "SELECT" and match and " LIMIT 1" in sql and sql.lstrip().upper().startswith("SELECT 1 AS"):
            return f"SELECT EXISTS {match.group(1)}"
        return f"{verb} {match.group(1)}" if match else verb

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def post(client, key: str, body: bytes, profile: bool):
    import cProfile

    from django.db import connection

    counter = StatementCounter()
    profiler = cProfile.Profile() if profile else None
    with connection.execute_wrapper(counter):
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        response = client.post(URL, data=body, content_type="application/json",
                               headers={"authorization": f"Token {key}"})
        seconds = time.perf_counter() - started
        if profiler:
            profiler.disable()
    return response, seconds, counter, profiler


def print_profile(profiler) -> None:
    import pstats

    print("\n-- cProfile of the request, by cumulative time (the project's code and Django's ORM)")
    stats = pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative")
    stats.print_stats(r"configdb|pacingsite|rest_framework/(serializers|relations|fields)|db/models/(base|query)\.py",
                      40)
    print("-- ... by own time")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(20)


# --- report ------------------------------------------------------------------------------------------------


def report(count: int, runs: list[dict]) -> None:
    print(f"\nREST API bulk create: POST {URL} with a list of {count} virtual queues "
          f"(goal: under {GOAL_SECONDS:.0f} s)\n")
    common.print_table(
        ["run", "records", "seconds", "ms/record", "SQL statements", "per record", "SQL time s", "written",
         "history rows", f"goal < {GOAL_SECONDS:.0f} s"],
        [[str(n), str(count), f"{r['seconds']:.1f}", f"{r['seconds'] * 1000 / count:.2f}", str(r["counter"].total),
          f"{r['counter'].total / count:.1f}", f"{r['counter'].seconds:.1f}", str(r["written"]), str(r["history"]),
          "met" if r["seconds"] < GOAL_SECONDS else "MISSED"] for n, r in enumerate(runs, 1)],
    )
    last = runs[-1]["counter"]
    print(f"\nSQL statements of run {len(runs)}, by kind and table\n")
    common.print_table(["statement", "count", "per record"],
                [[kind, str(n), f"{n / count:.2f}"] for kind, n in last.kinds.most_common()])
    print("\n'written' = virtual queues counted in the table afterwards (expected: the records sent); 'history "
          "rows' = ObjectChange rows recorded. 'SQL time' = time spent inside the database driver. The "
          "figures are measurements, not assertions.")


# --- main --------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    import orjson
    from django.test import Client

    from configdb.models import ObjectChange, VirtualQueue

    common.check_connection(args.database)
    with common.throwaway_database("bench_bulk", args.database):
        fixed = create_fixed_objects()
        body = orjson.dumps(records(args.records))
        client = Client()
        warm = client.get(f"{URL}?limit=1", headers={"authorization": f"Token {fixed.key}"})  # loads the URLconf
        if warm.status_code != 200:
            common.fail(f"GET {URL} answered {warm.status_code}")
        common.tune_gc(args.tune_gc)
        common.analyze()
        results = []
        for number in range(1, args.runs + 1):
            if number > 1:
                clean_up()
            print(f"run {number}: POST {URL} with {args.records} records ({len(body) / 1024:.0f} KiB of JSON) ...",
                  flush=True)
            profile = args.profile and number == args.runs
            response, seconds, counter, profiler = post(client, fixed.key, body, profile)
            if response.status_code != 201:
                common.fail(f"POST {URL} answered {response.status_code}: {response.content[:600]!r}")
            created = orjson.loads(response.content)
            written = VirtualQueue.objects.filter(number__startswith="Bulk ").count()
            history = ObjectChange.objects.filter(via="api").count()
            print(f"  {seconds:.1f} s, {counter.total} SQL statements, {len(created)} objects returned, "
                  f"{written} counted in the table", flush=True)
            results.append({"seconds": seconds, "counter": counter, "written": written, "history": history})
            if profiler:
                print_profile(profiler)
        report(args.records, results)


def main(argv: list[str] | None = None) -> int:
    return common.run_benchmark("api_bulk", run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
