"""``manage.py wait_for_services``: wait until the database and Redis answer (and, with ``--migrated``, until
the schema is up to date), then exit 0; exit 1 with one line naming what never answered.

The image's entrypoint (deploy/entrypoint.sh) runs it before serving, because containers start in any order:
compose's ``depends_on`` covers one host only, and an orchestrator restarts a crashing container with a back-off
that makes a cold start slow. A pacing node waits for ``--migrated`` so that it never runs a cycle on a schema
the web container is still migrating.
"""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import OperationalError

from configdb import redis_target


def _database() -> str | None:
    """None when the database answers, else why not."""
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        connection.close()
        return f"database: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
    return None


def _redis() -> str | None:
    if not settings.REDIS_URL:
        return None                                  # the embedded Redis is started by dev.py run, not here
    target = redis_target.target_from_settings()
    client = redis_target.client(target, **redis_target.client_options())
    try:
        client.ping()                                # Sentinel: the primary the sentinels name answers
    except redis.RedisError as exc:
        return f"Redis at {redis_target.redacted(settings.REDIS_URL)}: {exc}"
    finally:
        redis_target.close(client)
    return None


def _migrated() -> str | None:
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        return f"database schema: {len(pending)} migration(s) not applied yet"
    return None


class Command(BaseCommand):
    help = "Wait until the database and Redis answer (--migrated: and the schema is up to date)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (default %(default)s)")
        parser.add_argument("--migrated", action="store_true", help="also wait until every migration is applied")

    def handle(self, *args, timeout: float, migrated: bool, **options):
        if timeout < 0:
            raise CommandError("--timeout: must be 0 or more seconds.")
        deadline = time.monotonic() + timeout
        said = None
        while True:
            problem = _database() or _redis() or (_migrated() if migrated else None)
            if problem is None:
                if said:
                    self.stdout.write("services ready.")
                return
            if time.monotonic() >= deadline:
                raise CommandError(f"gave up after {timeout:g} s waiting for the {problem}")
            if problem != said:
                self.stdout.write(f"waiting for the {problem}")
                said = problem
            time.sleep(1.0)
