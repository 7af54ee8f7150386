#!/usr/bin/env python3
"""Benchmark: importing a tenant's configuration document (configdb.transfer) of 10,000 and 20,000 objects.

Creates a throw-away test database the way Django's test runner does (the real database's tables are never
touched), builds a configuration document of ``--objects`` objects in a new tenant — folders, switches, DNs,
virtual queues with pacing options, media types, skills, persons with skill levels and media types, agent
groups with agents and origination DNs — and times, through ``transfer.import_document`` (the code path of
``manage.py import_config`` and of the API's import job):

* **create**: the document into an empty tenant (every object created),
* **re-import**: the same document again (every object unchanged),
* **update**: the document with every DN's alias changed (about half of the objects updated).

For each it prints the seconds (wall clock), the CPU seconds of this process (on SQLite the database's work
too; a busy machine inflates the first, not the second), the SQL statements issued (by kind) and the time per
object, and checks the summary's counts. Prints figures only: it asserts nothing about timings and exits 0
whatever they are (non-zero only when something fails, e.g. the import reports a problem or the database is
unreachable).

    python3 dev.py bench config_import [--objects 10000,20000] [--database URL|sqlite] [--profile]
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager

import _common as common

GOAL_SECONDS = 10.0          # issue 10: 20,000 objects in under 10 s
GOAL_OBJECTS = 20_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="config_import",
        description="Time the import of configuration documents of N objects into a throw-away test database "
                    f"(created and dropped by this script). The goal: {GOAL_OBJECTS:,} objects in under "
                    f"{GOAL_SECONDS:.0f} s. Figures only: exits 0 whatever they are.",
    )
    parser.add_argument(
        "--database", metavar="URL|sqlite",
        default=os.environ.get("BENCH_DATABASE_URL") or common.DEFAULT_DATABASE_URL,
        help="a DATABASE_URL (only a test database derived from its name is written to), or 'sqlite' for a "
             "temporary SQLite file as the README's default set-up uses (default: $BENCH_DATABASE_URL, else "
             f"{common.DEFAULT_DATABASE_URL})",
    )
    parser.add_argument("--objects", default="10000,20000", metavar="N[,N…]",
                        help="document sizes, objects each, comma-separated (default %(default)s)")
    parser.add_argument("--profile", choices=("create", "re-import", "update"),
                        help="also print a cProfile summary of that import (of the last size)")
    parser.add_argument("--sort", default="cumulative", choices=("cumulative", "tottime"),
                        help="the order of the --profile summary (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(part) for part in args.objects.split(",") if part.strip()]
    except ValueError:
        parser.error("--objects must be whole numbers separated by commas, e.g. 10000,20000")
    if not args.sizes or min(args.sizes) < 100:
        parser.error("--objects: each size must be at least 100")
    return args


# --- the document ------------------------------------------------------------------------------------------


def document(objects: int, tenant: str) -> dict:
    """A configuration document of about ``objects`` objects (rows counted: skill levels and links are not)."""
    from configdb import transfer

    n_switches, n_folders, n_media, n_skills = 4, 8, 4, 50
    rest = objects - n_switches - n_folders - n_media - n_skills
    n_groups = max(1, rest // 40)
    n_persons = rest * 3 // 10
    n_queues = rest * 2 // 10
    n_dns = rest - n_groups - n_persons - n_queues
    folders = [{"type": "dn", "path": [f"DNs {i}"], "description": "", "state": "enabled"} for i in range(n_folders)]
    switches = [{"name": f"Switch {i}", "folder": None, "state": "enabled", "switch_type": "sip", "t_server": None,
                 "options": {}} for i in range(n_switches)]

    def dn(i: int, queue: bool) -> dict:
        record = {"switch": f"Switch {i % n_switches}", "number": f"{'VQ' if queue else ''}{100000 + i}",
                  "folder": [f"DNs {i % n_folders}"] if i % 3 else None, "state": "enabled",
                  "alias": f"alias {i}", "association": "", "register": "true", "route_type": "default",
                  "options": {"pacing": {"media": "chat", "optimizationGoal": "3"}} if queue else {}}
        if not queue:
            record["dn_type"] = "extension"
        return record

    dns = [dn(i, False) for i in range(n_dns)]
    queues = [dn(i, True) for i in range(n_queues)]
    media = [{"name": m, "display_name": m.title(), "folder": None, "state": "enabled"}
             for m in ("chat", "email", "voice", "workitem")]
    skills = [{"name": f"Skill {i}", "folder": None, "state": "enabled"} for i in range(n_skills)]
    persons = [{
        "user_name": f"{tenant.lower()}.agent{i}", "first_name": "Agent", "last_name": str(i),
        "email": f"agent{i}@example.com", "employee_id": f"E{i:06d}", "is_agent": True, "folder": None,
        "state": "enabled", "media_types": ["chat"],
        "skill_levels": [{"skill": f"Skill {i % n_skills}", "level": 5}], "options": {},
    } for i in range(n_persons)]
    per_group = max(1, n_persons // n_groups)
    groups = [{
        "name": f"Group {g}", "group_type": "regular", "skill_expression": "", "folder": None, "state": "enabled",
        "agents": sorted(persons[j]["user_name"] for j in range(g * per_group, min(n_persons, (g + 1) * per_group))),
        "supervisors": [], "origination_dns": [{"switch": queues[g % n_queues]["switch"],
                                                "number": queues[g % n_queues]["number"]}] if n_queues else [],
        "options": {"pacing": {"media": "chat"}},
    } for g in range(n_groups)]
    return {"format": transfer.FORMAT, "version": transfer.VERSION, "tenant": tenant, "objects": {
        "tenant": {"description": "bench", "state": "enabled", "options": {}},
        "folders": folders, "switches": switches, "dns": dns, "virtual-queues": queues, "media-types": media,
        "skills": skills, "persons": persons, "agent-groups": groups,
    }}


def count(doc: dict) -> int:
    return 1 + sum(len(v) for k, v in doc["objects"].items() if k != "tenant")


# --- measuring ---------------------------------------------------------------------------------------------


class Statements:
    """Counts the SQL statements (by first word) run through Django's connection."""

    def __init__(self) -> None:
        self.kinds: Counter = Counter()

    def __call__(self, execute, sql, params, many, context):
        self.kinds[sql.lstrip().split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def brief(self) -> str:
        return ", ".join(f"{kind} {n}" for kind, n in self.kinds.most_common(4))


def timed_import(doc: dict, profile: bool = False):
    from django.db import connection

    from configdb import transfer
    from configdb.history import acting_as

    statements = Statements()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    with connection.execute_wrapper(statements), acting_as("bench:config_import", "command"):
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        summary = transfer.import_document(doc)
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return summary, seconds, cpu, statements, profiler


@contextmanager
def database(args: argparse.Namespace):
    """The throw-away database: a test database on a server, or a migrated temporary SQLite file."""
    if not args.sqlite_folder:
        with common.throwaway_database("bench_import", args.database):
            yield
        return
    from django.core.management import call_command

    print(f"migrating the temporary SQLite database {args.database} ...", flush=True)
    try:
        call_command("migrate", verbosity=0)
        yield
    finally:
        from django.db import connection

        connection.close()
        shutil.rmtree(args.sqlite_folder, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    common.check_connection(args.database)
    rows = []
    profiler = None
    with database(args):
        for size in args.sizes:
            doc = document(size, f"Bench{size}")
            objects = count(doc)
            changed = copy.deepcopy(doc)
            for record in changed["objects"]["dns"]:
                record["alias"] += " (changed)"
            for label, body, expect in (("create", doc, "created"), ("re-import", doc, "unchanged"),
                                        ("update", changed, "updated")):
                summary, seconds, cpu, statements, prof = timed_import(body, profile=args.profile == label)
                profiler = prof or profiler
                totals = summary.totals
                if label != "update" and totals[expect] != objects:
                    common.fail(f"{label} of {objects} objects: the summary says {totals}")
                if label == "update" and totals["updated"] != len(changed["objects"]["dns"]):
                    common.fail(f"update: expected {len(changed['objects']['dns'])} updated, the summary says {totals}")
                goal = "" if objects < GOAL_OBJECTS or label != "create" else \
                    ("met" if seconds < GOAL_SECONDS else "MISSED")
                rows.append([f"{objects:,}", label, f"{seconds:.2f}", f"{cpu:.2f}", f"{seconds / objects * 1000:.3f}",
                             f"{statements.total:,}", statements.brief(), goal])
                print(f"  {objects:,} objects, {label}: {seconds:.2f} s, {statements.total:,} statements", flush=True)
    from django.db import connection

    print(f"\nconfiguration import on {connection.vendor} (goal: {GOAL_OBJECTS:,} objects created in under "
          f"{GOAL_SECONDS:.0f} s)\n")
    common.print_table(["objects", "import", "seconds", "cpu s", "ms/object", "statements", "by kind", "goal"], rows)
    if profiler is not None:
        import pstats

        print()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(30)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.sqlite_folder = None
    if args.database == "sqlite":
        args.sqlite_folder = tempfile.mkdtemp(prefix="bench-import-")
        args.database = f"sqlite:///{args.sqlite_folder}/bench.sqlite3"
    return common.run_benchmark("config_import", run, args)


if __name__ == "__main__":
    sys.exit(main())
