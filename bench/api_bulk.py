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
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/test"
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
    parser.add_argument(
        "--database", metavar="URL",
        default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
        help="database server to use, as a DATABASE_URL; only a test database derived from its name is "
             f"written to (default: $BENCH_DATABASE_URL, else {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument("--records", type=int, default=10_000, metavar="N",
                        help="virtual queues in the one POSTed list (default %(default)s)")
    parser.add_argument("--runs", type=int, default=1, metavar="N",
                        help="POST the list this many times, deleting what it created in between (default "
                             "%(default)s)")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile summary of the (last) request")
    parser.add_argument("--no-tune-gc", dest="tune_gc", action="store_false",
                        help="leave CPython's garbage collector as it is; by default the benchmark tunes it as "
                             "the product's gunicorn post_fork hook does (pacingsite/gunicorn_conf.py)")
    args = parser.parse_args(argv)
    if args.records < 1:
        parser.error("--records must be at least 1")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def fail(message: str) -> None:
    sys.exit(f"api_bulk: {message}")


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "pacingsite.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- data --------------------------------------------------------------------------------------------------


def create_fixed_objects() -> SimpleNamespace:
    """Two tenants with a switch each, DN folders, a few DNs of another type, a superuser and its token."""
    from django.contrib.auth import get_user_model

    from configdb.models import DN, DNType, Folder, FolderType, Switch, Tenant
    from pacingsite.models import ApiToken

    tenant, _ = Tenant.objects.get_or_create(name="Environment")
    other, _ = Tenant.objects.get_or_create(name="Other")
    switch = Switch.objects.create(tenant=tenant, name="SIP_Switch", switch_type="sip")
    Switch.objects.create(tenant=other, name="Other_Switch", switch_type="sip")
    for name in ("Chat", "Email", "Voice", "Workitems"):
        Folder.objects.create(tenant=tenant, name=name, folder_type=FolderType.DNS)
    DN.objects.bulk_create(
        [DN(tenant=tenant, switch=switch, number=f"7{i:03d}", dn_type=DNType.EXTENSION) for i in range(50)]
    )
    user = get_user_model().objects.create_user("bench", "bench@example.com", is_staff=True, is_superuser=True)
    _token, key = ApiToken.issue(user, description="api_bulk benchmark")
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
    analyze()


def analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


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


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = " | ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))


def report(count: int, runs: list[dict]) -> None:
    print(f"\nREST API bulk create: POST {URL} with a list of {count} virtual queues "
          f"(goal: under {GOAL_SECONDS:.0f} s)\n")
    print_table(
        ["run", "records", "seconds", "ms/record", "SQL statements", "per record", "SQL time s", "written",
         "history rows", f"goal < {GOAL_SECONDS:.0f} s"],
        [[str(n), str(count), f"{r['seconds']:.1f}", f"{r['seconds'] * 1000 / count:.2f}", str(r["counter"].total),
          f"{r['counter'].total / count:.1f}", f"{r['counter'].seconds:.1f}", str(r["written"]), str(r["history"]),
          "met" if r["seconds"] < GOAL_SECONDS else "MISSED"] for n, r in enumerate(runs, 1)],
    )
    last = runs[-1]["counter"]
    print(f"\nSQL statements of run {len(runs)}, by kind and table\n")
    print_table(["statement", "count", "per record"],
                [[kind, str(n), f"{n / count:.2f}"] for kind, n in last.kinds.most_common()])
    print("\n'written' = virtual queues counted in the table afterwards (expected: the records sent); 'history "
          "rows' = ObjectChange rows recorded. 'SQL time' = time spent inside the database driver. The "
          "figures are measurements, not assertions.")


# --- main --------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    import orjson
    from django.db import connection
    from django.db.utils import OperationalError
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment

    from configdb.models import ObjectChange, VirtualQueue

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(f"cannot connect to {redact(args.database)}: {first_line}")
    connection.close()

    # A name of our own, so neither a concurrent `pytest` (test_<name>) nor another benchmark is clobbered.
    connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_bench_bulk"
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
        fixed = create_fixed_objects()
        body = orjson.dumps(records(args.records))
        client = Client()
        warm = client.get(f"{URL}?limit=1", headers={"authorization": f"Token {fixed.key}"})  # loads the URLconf
        if warm.status_code != 200:
            fail(f"GET {URL} answered {warm.status_code}")
        if args.tune_gc:
            from pacingsite.gunicorn_conf import tune_gc

            tune_gc()
        analyze()
        results = []
        for number in range(1, args.runs + 1):
            if number > 1:
                clean_up()
            print(f"run {number}: POST {URL} with {args.records} records ({len(body) / 1024:.0f} KiB of JSON) ...",
                  flush=True)
            profile = args.profile and number == args.runs
            response, seconds, counter, profiler = post(client, fixed.key, body, profile)
            if response.status_code != 201:
                fail(f"POST {URL} answered {response.status_code}: {response.content[:600]!r}")
            created = orjson.loads(response.content)
            written = VirtualQueue.objects.filter(number__startswith="Bulk ").count()
            history = ObjectChange.objects.filter(via="api").count()
            print(f"  {seconds:.1f} s, {counter.total} SQL statements, {len(created)} objects returned, "
                  f"{written} counted in the table", flush=True)
            results.append({"seconds": seconds, "counter": counter, "written": written, "history": history})
            if profiler:
                print_profile(profiler)
        report(args.records, results)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_django(args.database)
    try:
        run(args)
    except KeyboardInterrupt:
        print("api_bulk: interrupted (the test database was dropped)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
