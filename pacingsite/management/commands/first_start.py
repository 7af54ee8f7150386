"""``manage.py first_start``: what the image does before it serves (deploy/entrypoint.sh, role ``web``).

As the vendor's installer does for a Pacing Server (pacing-deployment-guide.txt: the installation runs
``provisioning.sh -app <cluster>``), the first start prepares the configuration database for the cluster
the image is configured for, and says so in one line:

1. the migrations, under a PostgreSQL advisory lock so that two web replicas started together do not
   migrate at once (SQLite: one file, one writer anyway);
2. the ``Environment`` tenant, which every Configuration Server database has from its initialisation (the
   vendor's), and the shipped application templates it owns, imported where none exist (what the deployment
   wizard offers);
3. with ``PACING_LOAD_DEMO=1``, the demo configuration (configdb/demo.py, as ``load_demo``), in a line of its own;
4. with ``PACING_CLUSTER=<name>`` (with the demo: the demo's cluster unless named), the provisioning service for
   that cluster (provisioning/services.py: the PacingService alarm conditions and the Stat Server's statistics,
   added if absent).

Every step is idempotent: a later start finds everything in place and says "nothing to add". A cluster that
is not in the configuration yet is not an error (the administrator creates it with the deployment wizard,
then restarts or runs ``manage.py provision``); the line says so. Ours: the vendor's installer is
interactive and has no such mode.
"""

from __future__ import annotations

import contextlib
import os

from django.core.management import call_command
from django.db import connection, transaction

from configdb import services
from configdb.demo import load_demo
from configdb.management.base import ConfigCommand
from configdb.models import Tenant
from pacingsite.management.commands.load_demo import DEMO_CLUSTER
from provisioning.services import ProvisioningError, provision
from provisioning.templates.service import DEFAULT_TENANT, import_shipped

#: the advisory-lock key of the migrations (any constant; "PACS" in ASCII)
MIGRATION_LOCK = 0x50414353


@contextlib.contextmanager
def migration_lock():
    """Hold PostgreSQL's session advisory lock while migrating; elsewhere nothing to hold."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])


def provision_line(cluster: str) -> str:
    """Provision ``cluster`` as a command (no user) and describe the outcome in one line."""
    try:
        plan = provision(cluster, user=None)
    except ProvisioningError as exc:
        return (f"first start: pacing cluster '{cluster}' not provisioned: {exc.message} Create it with the "
                "deployment wizard (admin: Provisioning → Deployment wizard), then restart or run "
                f"'manage.py provision {cluster}'.")
    created = [c for c in plan.changes if c.action == "create"]
    if not created:
        return f"first start: pacing cluster '{cluster}' already provisioned (tenant {plan.tenant}): nothing to add."
    kinds: dict[str, int] = {}
    for change in created:
        kinds[change.object_type] = kinds.get(change.object_type, 0) + 1
    what = ", ".join(f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in sorted(kinds.items()))
    servers = ", ".join(plan.stat_servers) or "none"
    return (f"first start: pacing cluster '{cluster}' provisioned (tenant {plan.tenant}, Stat Servers {servers}): "
            f"{what} added.")


class Command(ConfigCommand):
    help = ("Prepare the configuration database for this deployment: migrations (locked on PostgreSQL), the shipped "
            "templates, the demo with PACING_LOAD_DEMO=1, and the provisioning of the PACING_CLUSTER cluster; "
            "prints one line for the cluster. Idempotent.")

    def add_arguments(self, parser):
        parser.add_argument("--cluster", default=os.environ.get("PACING_CLUSTER", ""),
                            help="the pacing cluster to provision (default: PACING_CLUSTER)")
        parser.add_argument("--demo", action="store_true", default=os.environ.get("PACING_LOAD_DEMO", "").strip()
                            .lower() in {"1", "true", "yes", "on"},
                            help="load the demo configuration (default: PACING_LOAD_DEMO)")

    def handle(self, *args, cluster: str, demo: bool, **options):
        with migration_lock():
            call_command("migrate", interactive=False, verbosity=0)
        with transaction.atomic():
            if demo:
                report = load_demo()
                self.stdout.write(f"first start: demo configuration loaded: {report.total_created} objects created, "
                                  f"{sum(report.existing.values())} already present.")
            elif not Tenant.objects.filter(name=DEFAULT_TENANT).exists():
                services.save_object(Tenant(name=DEFAULT_TENANT), user=None)
            import_shipped(user=None)
        cluster = cluster.strip() or (DEMO_CLUSTER if demo else "")
        if cluster:
            self.stdout.write(provision_line(cluster))
        else:
            self.stdout.write("first start: no PACING_CLUSTER set; nothing provisioned (the configuration is "
                              "ready for the deployment wizard).")
