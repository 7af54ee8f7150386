#!/usr/bin/env python3
"""Benchmark: the REST API's lists of virtual queues and agent groups (/api/v1/…/?limit=100) on large tables.

Creates a throw-away test database the way Django's test runner does (the real database's tables are
never touched), fills it with virtual queues and agent groups (each group with origination DNs, agents and
sometimes a supervisor), and times GET requests through django.test.Client — logged in with a session
(force_login) and with an API token (ApiToken.issue): the first page, a middle offset, a filter and a
search. Each page is measured with small tables (100 rows each) and with the full ones, and the SQL query
counts of both are printed side by side to show whether they stay constant as the tables grow.

Prints figures only: it asserts nothing about timings and exits 0 whatever they are (non-zero only when
something fails, e.g. PostgreSQL is unreachable or a page does not answer 200).

    python3 dev.py bench api_list [--queues 10000] [--groups 20000] [--pages 30] [--database URL] [--sql]
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
API = "/api/v1/"
GOAL_MS = 100.0
SMALL_ROWS = 100
PAGE_SIZE = 100
BATCH_SIZE = 2000
PERSONS = 1000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="api_list",
        description="Time the REST API's lists of virtual queues and agent groups with many rows, on a "
                    "throw-away test database (test_<name>_bench_api, created and dropped by this script). "
                    "Prints median and p95 milliseconds per page and SQL queries per request; the goal is a "
                    f"p95 under {GOAL_MS:.0f} ms with a constant query count. Figures only: exits 0 whatever "
                    "they are.",
    )
    parser.add_argument(
        "--database", metavar="URL",
        default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
        help="database server to use, as a DATABASE_URL; only a test database derived from its name is "
             f"written to (default: $BENCH_DATABASE_URL, else {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument("--queues", type=int, default=10_000, metavar="N",
                        help="virtual queues in the table for the main measurement (default %(default)s)")
    parser.add_argument("--groups", type=int, default=20_000, metavar="N",
                        help="agent groups in the table for the main measurement (default %(default)s)")
    parser.add_argument("--pages", type=int, default=30, metavar="N",
                        help="timed requests per page, after one warm-up request (default %(default)s)")
    parser.add_argument("--sql", action="store_true",
                        help="also print the SQL of one request of each page at the full row count")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile summary of 10 requests of each list's first page (session)")
    parser.add_argument("--no-tune-gc", dest="tune_gc", action="store_false",
                        help="leave CPython's garbage collector as it is; by default the benchmark tunes it as "
                             "the product's gunicorn post_fork hook does (pacingsite/gunicorn_conf.py)")
    args = parser.parse_args(argv)
    for name in ("queues", "groups", "pages"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def fail(message: str) -> None:
    sys.exit(f"api_list: {message}")


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
    """Two tenants with a switch each, DN and agent-group folders, a pool of persons, a superuser and its
    API token."""
    from django.contrib.auth import get_user_model

    from configdb.models import Folder, FolderType, Person, Switch, Tenant
    from pacingsite.models import ApiToken

    tenant, _ = Tenant.objects.get_or_create(name="Environment")
    other, _ = Tenant.objects.get_or_create(name="Other")
    switch = Switch.objects.create(tenant=tenant, name="SIP_Switch", switch_type="sip")
    other_switch = Switch.objects.create(tenant=other, name="Other_Switch", switch_type="sip")
    dn_folders = [Folder.objects.create(tenant=tenant, name=name, folder_type=FolderType.DNS)
                  for name in ("Chat", "Email", "Voice", "Workitems")]
    group_folders = [Folder.objects.create(tenant=tenant, name=name, folder_type=FolderType.AGENT_GROUPS)
                     for name in ("Sales", "Support", "Billing")]
    Person.objects.bulk_create([
        Person(tenant=other if i % 10 == 5 else tenant, user_name=f"agent{i:04d}", employee_id=f"E{i:04d}",
               first_name="Agent", last_name=f"{i:04d}")
        for i in range(PERSONS)
    ])
    persons = list(Person.objects.order_by("pk").values_list("pk", "tenant_id"))
    user = get_user_model().objects.create_user("bench", "bench@example.com", is_staff=True, is_superuser=True)
    _token, key = ApiToken.issue(user, description="api_list benchmark")
    return SimpleNamespace(tenant=tenant, other=other, switch=switch, other_switch=other_switch,
                           dn_folders=dn_folders, group_folders=group_folders, user=user, key=key,
                           persons={t: [pk for pk, tid in persons if tid == t] for t in (tenant.pk, other.pk)})


def add_virtual_queues(start: int, stop: int, fixed: SimpleNamespace) -> None:
    """Virtual queues numbered start..stop-1: one in ten the Other tenant's, one in ten disabled."""
    from configdb.models import DNType, State, VirtualQueue

    media = ("chat", "email", "voice", "workitem")
    for first in range(start, stop, BATCH_SIZE):
        batch = []
        for i in range(first, min(first + BATCH_SIZE, stop)):
            number = f"Queue {i:05d}"
            mine = i % 10 != 5
            batch.append(VirtualQueue(
                tenant=fixed.tenant if mine else fixed.other, switch=fixed.switch if mine else fixed.other_switch,
                number=number, alias=number, dn_type=DNType.VIRTUAL_QUEUE,
                folder=fixed.dn_folders[i % len(fixed.dn_folders)] if mine and i % 7 else None,
                state=State.DISABLED if i % 10 == 0 else State.ENABLED,
                options={"pacing": {"media": media[i % 4], "optimizationGoal": str(3 + i % 4)}},
            ))
        VirtualQueue.objects.bulk_create(batch, batch_size=BATCH_SIZE)


def add_agent_groups(start: int, stop: int, fixed: SimpleNamespace) -> None:
    """Agent groups numbered start..stop-1, each with one or two origination DNs (virtual queues of its
    tenant, through OriginationDN), two to four agents and, one in five, a supervisor; one in ten is the
    Other tenant's, one in eight is virtual (a skill expression instead of agents)."""
    from configdb.models import AgentGroup, AgentGroupType, OriginationDN, VirtualQueue

    queues = {t: list(VirtualQueue.objects.filter(tenant_id=t).order_by("pk").values_list("pk", flat=True))
              for t in (fixed.tenant.pk, fixed.other.pk)}
    agents_through = AgentGroup.agents.through
    supervisors_through = AgentGroup.supervisors.through
    for first in range(start, stop, BATCH_SIZE):
        groups = []
        for i in range(first, min(first + BATCH_SIZE, stop)):
            mine = i % 10 != 5
            virtual = i % 8 == 3
            groups.append(AgentGroup(
                tenant=fixed.tenant if mine else fixed.other, name=f"Group {i:05d}",
                folder=fixed.group_folders[i % len(fixed.group_folders)] if mine and i % 4 else None,
                group_type=AgentGroupType.VIRTUAL if virtual else AgentGroupType.REGULAR,
                skill_expression=f"Sales > {i % 10}" if virtual else "",
                options={"pacing": {"weight": str(1 + i % 3)}} if i % 3 == 0 else {},
            ))
        created = AgentGroup.objects.bulk_create(groups, batch_size=BATCH_SIZE)
        links, agents, supervisors = [], [], []
        for n, group in enumerate(created, start=first):
            dns, people = queues[group.tenant_id], fixed.persons[group.tenant_id]
            for k in range(1 + n % 2):
                links.append(OriginationDN(agent_group_id=group.pk, dn_id=dns[(n * 7 + k * 131) % len(dns)]))
            if group.group_type != AgentGroupType.VIRTUAL:
                chosen = {people[(n * 3 + k * 37) % len(people)] for k in range(2 + n % 3)}
                agents += [agents_through(agentgroup_id=group.pk, person_id=p) for p in sorted(chosen)]
            if n % 5 == 0:
                supervisors.append(supervisors_through(agentgroup_id=group.pk, person_id=people[n % len(people)]))
        OriginationDN.objects.bulk_create(links, batch_size=BATCH_SIZE)
        agents_through.objects.bulk_create(agents, batch_size=BATCH_SIZE)
        supervisors_through.objects.bulk_create(supervisors, batch_size=BATCH_SIZE)


def analyze() -> None:
    """Vacuum and refresh the planner's statistics, as autovacuum would on a live database (and so that
    autovacuum does not start in the middle of the measurements)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


# --- measurement -------------------------------------------------------------------------------------------


def page_urls(queues: int, groups: int) -> list[tuple[str, str, str]]:
    """(list, page, URL) of every page measured; the middle offset is half the table."""
    def middle(rows: int) -> int:
        return max(0, (rows // 2) // PAGE_SIZE * PAGE_SIZE)

    vq, ag = f"{API}virtual-queues/?limit={PAGE_SIZE}", f"{API}agent-groups/?limit={PAGE_SIZE}"
    return [
        ("virtual-queues", "first page", vq),
        ("virtual-queues", "middle offset", f"{vq}&offset={middle(queues)}"),
        ("virtual-queues", "filter", f"{vq}&switch=SIP_Switch&state=enabled"),
        ("virtual-queues", "search", f"{vq}&q=05"),
        ("agent-groups", "first page", ag),
        ("agent-groups", "middle offset", f"{ag}&offset={middle(groups)}"),
        ("agent-groups", "filter", f"{ag}&tenant=Environment&group_type=regular"),
        ("agent-groups", "search", f"{ag}&q=05"),
    ]


def fetch(client, url: str, headers: dict):
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        fail(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
    return response


def measure(client, headers: dict, auth: str, resource: str, label: str, url: str, rows: int, repeats: int,
            show_sql: bool) -> dict:
    import orjson
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = fetch(client, url, headers)  # warm-up (and the token's last_used update)
    body = orjson.loads(response.content)
    with CaptureQueriesContext(connection) as context:
        fetch(client, url, headers)
    captured = context.captured_queries
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        fetch(client, url, headers)
        timings.append((time.perf_counter() - started) * 1000)
    if show_sql:
        print(f"\n-- {resource} {label} ({url}), {auth}, {rows} rows: {len(captured)} queries")
        for number, query in enumerate(captured, 1):
            print(f"{number:>3}. [{float(query['time']) * 1000:6.1f} ms] {query['sql'][:600]}")
    return {
        "list": resource, "page": label, "url": url, "auth": auth, "rows": rows, "count": body["count"],
        "shown": len(body["results"]), "queries": len(captured),
        "median": statistics.median(timings), "p95": percentile(timings, 0.95),
    }


def measure_all(clients: list[tuple[str, object, dict]], queues: int, groups: int, repeats: int,
                show_sql: bool) -> list[dict]:
    print(f"measuring {repeats} requests per page with {queues} virtual queues and {groups} agent groups ...",
          flush=True)
    results = []
    for resource, label, url in page_urls(queues, groups):
        for auth, client, headers in clients:
            rows = queues if resource == "virtual-queues" else groups
            results.append(measure(client, headers, auth, resource, label, url, rows, repeats, show_sql))
    return results


def profile(client, queues: int, groups: int) -> None:
    import cProfile
    import pstats

    for resource, label, url in page_urls(queues, groups):
        if label != "first page":
            continue
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            fetch(client, url, {})
        profiler.disable()
        print(f"\n-- cProfile: 10 requests of {url} (session), by cumulative time")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
        print(f"-- ... by own time ({resource})")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)


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


def report(phases: list[list[dict]]) -> None:
    results = [r for phase in phases for r in phase]
    print(f"\nREST API lists: GET {API}<list>/?limit={PAGE_SIZE}… (goal: p95 under {GOAL_MS:.0f} ms, constant "
          "query count)\n")
    print_table(
        ["list", "page", "query", "auth", "rows", "count", "shown", "median ms", "p95 ms", "queries",
         f"goal < {GOAL_MS:.0f} ms"],
        [[r["list"], r["page"], r["url"].split("?", 1)[1].removeprefix(f"limit={PAGE_SIZE}").lstrip("&") or "-",
          r["auth"], str(r["rows"]), str(r["count"]), str(r["shown"]), f"{r['median']:.1f}", f"{r['p95']:.1f}",
          str(r["queries"]), verdict(r)] for r in results],
    )
    if len(phases) == 2:
        small, large = phases
        print("\nSQL queries per request, small tables vs full tables\n")
        print_table(
            ["list", "page", "auth", "queries @small", "queries @full", "query count"],
            [[a["list"], a["page"], a["auth"], f"{a['queries']} @{a['rows']}", f"{b['queries']} @{b['rows']}",
              "constant" if a["queries"] == b["queries"] else "GROWS"] for a, b in zip(small, large, strict=True)],
        )
    print(f"\n'rows' = objects of that type in the table, 'count' = the list's count, 'shown' = rows on the page. "
          f"goal: 'met' = p95 under {GOAL_MS:.0f} ms, 'median only' = the median is under it but not the p95. "
          "The figures are measurements, not assertions.")


# --- main --------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.db.utils import OperationalError
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(f"cannot connect to {redact(args.database)}: {first_line}")
    connection.close()

    # A name of our own, so neither a concurrent `pytest` (test_<name>) nor another benchmark is clobbered.
    connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_bench_api"
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
        session = Client()
        session.force_login(fixed.user)
        clients = [("session", session, {}), ("token", Client(), {"authorization": f"Token {fixed.key}"})]
        if args.tune_gc:
            from pacingsite.gunicorn_conf import tune_gc

            tune_gc()
        phases = []
        small_q, small_g = min(SMALL_ROWS, args.queues), min(SMALL_ROWS, args.groups)
        started = time.perf_counter()
        add_virtual_queues(0, small_q, fixed)
        add_agent_groups(0, small_g, fixed)
        analyze()
        seconds = time.perf_counter() - started
        if (small_q, small_g) != (args.queues, args.groups):
            phases.append(measure_all(clients, small_q, small_g, args.pages, show_sql=False))
            started = time.perf_counter()
            add_virtual_queues(small_q, args.queues, fixed)
            add_agent_groups(small_g, args.groups, fixed)
            analyze()
            seconds += time.perf_counter() - started
        print(f"populated {args.queues} virtual queues and {args.groups} agent groups in {seconds:.1f} s "
              f"(bulk_create, batches of {BATCH_SIZE})", flush=True)
        phases.append(measure_all(clients, args.queues, args.groups, args.pages, show_sql=args.sql))
        if args.profile:
            profile(session, args.queues, args.groups)
        report(phases)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_django(args.database)
    try:
        run(args)
    except KeyboardInterrupt:
        print("api_list: interrupted (the test database was dropped)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
