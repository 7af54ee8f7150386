"""``manage.py load_demo``: load the seeds' example configuration (safe to run again).

It lives at the top layer because it gathers two lower ones: the configuration of configdb/demo.py and the
alarm conditions of alarms/catalog.py.
"""

from django.db import transaction

from alarms.services import provision_conditions
from configdb.demo import load_demo
from configdb.management.base import ConfigCommand
from configdb.models import Tenant


class Command(ConfigCommand):
    help = (
        "Load the demo configuration of the seeds (tenant Environment, host demosrv, MultiMediaSwitch, "
        "virtual queues Proactive Chat and Proactive Voice, four agent groups, Stat_Server, Message_Server, "
        "Pacing_Service_Cluster_9.0 with two nodes, the PacingService alarm conditions and the "
        "hybrid_integration transaction). Idempotent: existing objects are left as they are."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            report = load_demo()
            provision_conditions(Tenant.objects.get(name="Environment"), report)
        for label, count in sorted(report.created.items()):
            self.stdout.write(f"  created {count:3d} {label}")
        existing = sum(report.existing.values())
        self.stdout.write(self.style.SUCCESS(
            f"Demo data loaded: {report.total_created} objects created, {existing} already present."
        ))
