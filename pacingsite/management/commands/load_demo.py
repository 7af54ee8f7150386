"""``manage.py load_demo``: load the seeds' example configuration (safe to run again).

Three steps, as an administrator would take them: the configuration of configdb/demo.py (what GAX's screens would
create); the product's templates (templates/*.apd and .xml) imported where the demo's have no metadata
(provisioning/templates/service.py); then the provisioning service run for the demo's cluster with the seeds'
answers (provisioning/services.py: the PacingService alarm conditions of alarms/catalog.py and the Stat Server's
statistics), as the vendor's installer runs it. It lives at the top layer because it gathers them.
"""

from django.db import transaction

from configdb.demo import load_demo
from configdb.management.base import ConfigCommand
from provisioning.services import provision
from provisioning.templates.service import import_shipped

#: the seeds' answer to the installer's "-app" (pacing-deployment-guide.txt: "Pacing_Service_Cluster_9.0")
DEMO_CLUSTER = "Pacing_Service_Cluster_9.0"


class Command(ConfigCommand):
    help = (
        "Load the demo configuration of the seeds (tenant Environment, host demosrv, MultiMediaSwitch, "
        "virtual queues Proactive Chat and Proactive Voice, four agent groups, Stat_Server, Message_Server, "
        "Pacing_Service_Cluster_9.0 with two nodes and the hybrid_integration transaction), then provision the "
        "cluster (the PacingService alarm conditions, the Stat Server's PACS_* statistics). Idempotent: existing "
        "objects are left as they are."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            report = load_demo()
            import_shipped(user=None)
            plan = provision(DEMO_CLUSTER, user=None)
        for change in plan.changes:
            if change.action == "create":
                label = change.object_type.title() + "s"
                report.created[label] = report.created.get(label, 0) + 1
        for label, count in sorted(report.created.items()):
            self.stdout.write(f"  created {count:3d} {label}")
        existing = sum(report.existing.values())
        self.stdout.write(self.style.SUCCESS(
            f"Demo data loaded: {report.total_created} objects created, {existing} already present."
        ))
