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
import sys
import time
from types import SimpleNamespace

import _common as common

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
    common.add_database_option(parser)
    common.add_count_option(parser, "queues", 10_000, "virtual queues in the table for the main measurement")
    common.add_count_option(parser, "groups", 20_000, "agent groups in the table for the main measurement")
    common.add_page_options(parser)
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile summary of 10 requests of each list's first page (session)")
    common.add_tune_gc_option(parser)
    args = parser.parse_args(argv)
    common.require_positive(parser, args, "queues", "groups", "pages")
    return args


# --- data --------------------------------------------------------------------------------------------------


def create_fixed_objects() -> SimpleNamespace:
    """Two tenants with a switch each, DN and agent-group folders, a pool of persons, a superuser and its
    API token."""
    from configdb.models import Folder, FolderType, Person

    tenant, other, switch, other_switch = common.create_tenants_and_switches()
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
    user, key = common.create_superuser(key_description="api_list benchmark")
    return SimpleNamespace(tenant=tenant, other=other, switch=switch, other_switch=other_switch,
                           dn_folders=dn_folders, group_folders=group_folders, user=user, key=key,
                           persons={t: [pk for pk, tid in persons if tid == t] for t in (tenant.pk, other.pk)})


def add_virtual_queues(start: int, stop: int, fixed: SimpleNamespace) -> None:
    """Virtual queues numbered start..stop-1: one in ten the Other tenant's, one in ten disabled."""
    common.add_virtual_queues(start, stop, fixed, fixed.dn_folders, lambda i: str(3 + i % 4), BATCH_SIZE)


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
        common.fail(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
    return response


def measure(client, headers: dict, auth: str, resource: str, label: str, url: str, rows: int, repeats: int,
            show_sql: bool) -> dict:
    import orjson

    response = fetch(client, url, headers)  # warm-up (and the token's last_used update)
    body = orjson.loads(response.content)
    captured = common.captured_queries(lambda: fetch(client, url, headers))
    median, p95 = common.time_ms(lambda: fetch(client, url, headers), repeats)
    if show_sql:
        common.print_queries(f"{resource} {label} ({url}), {auth}, {rows} rows", captured, limit=600)
    return {
        "list": resource, "page": label, "url": url, "auth": auth, "rows": rows, "count": body["count"],
        "shown": len(body["results"]), "queries": len(captured), "median": median, "p95": p95,
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


def report(phases: list[list[dict]]) -> None:
    results = [r for phase in phases for r in phase]
    print(f"\nREST API lists: GET {API}<list>/?limit={PAGE_SIZE}… (goal: p95 under {GOAL_MS:.0f} ms, constant "
          "query count)\n")
    common.print_table(
        ["list", "page", "query", "auth", "rows", "count", "shown", "median ms", "p95 ms", "queries",
         f"goal < {GOAL_MS:.0f} ms"],
        [[r["list"], r["page"], r["url"].split("?", 1)[1].removeprefix(f"limit={PAGE_SIZE}").lstrip("&") or "-",
          r["auth"], str(r["rows"]), str(r["count"]), str(r["shown"]), f"{r['median']:.1f}", f"{r['p95']:.1f}",
          str(r["queries"]), common.verdict(r["median"], r["p95"], GOAL_MS)] for r in results],
    )
    if len(phases) == 2:
        small, large = phases
        print("\nSQL queries per request, small tables vs full tables\n")
        common.print_table(
            ["list", "page", "auth", "queries @small", "queries @full", "query count"],
            [[a["list"], a["page"], a["auth"], f"{a['queries']} @{a['rows']}", f"{b['queries']} @{b['rows']}",
              "constant" if a["queries"] == b["queries"] else "GROWS"] for a, b in zip(small, large, strict=True)],
        )
    print(f"\n'rows' = objects of that type in the table, 'count' = the list's count, 'shown' = rows on the page. "
          f"goal: 'met' = p95 under {GOAL_MS:.0f} ms, 'median only' = the median is under it but not the p95. "
          "The figures are measurements, not assertions.")


# --- main --------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    from django.test import Client

    common.check_connection(args.database)
    with common.throwaway_database("bench_api", args.database):
        fixed = create_fixed_objects()
        session = Client()
        session.force_login(fixed.user)
        clients = [("session", session, {}), ("token", Client(), {"authorization": f"Token {fixed.key}"})]
        common.tune_gc(args.tune_gc)
        phases = []
        small_q, small_g = min(SMALL_ROWS, args.queues), min(SMALL_ROWS, args.groups)
        started = time.perf_counter()
        add_virtual_queues(0, small_q, fixed)
        add_agent_groups(0, small_g, fixed)
        common.analyze()
        seconds = time.perf_counter() - started
        if (small_q, small_g) != (args.queues, args.groups):
            phases.append(measure_all(clients, small_q, small_g, args.pages, show_sql=False))
            started = time.perf_counter()
            add_virtual_queues(small_q, args.queues, fixed)
            add_agent_groups(small_g, args.groups, fixed)
            common.analyze()
            seconds += time.perf_counter() - started
        print(f"populated {args.queues} virtual queues and {args.groups} agent groups in {seconds:.1f} s "
              f"(bulk_create, batches of {BATCH_SIZE})", flush=True)
        phases.append(measure_all(clients, args.queues, args.groups, args.pages, show_sql=args.sql))
        if args.profile:
            profile(session, args.queues, args.groups)
        report(phases)


def main(argv: list[str] | None = None) -> int:
    return common.run_benchmark("api_list", run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
