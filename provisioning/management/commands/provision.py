"""``manage.py provision NAME [--overwrite] [--dry-run]``: the provisioning service, run locally (no API).

The CLI of the vendor's flags (``provisioning/bin/provisioning.sh``) reaches a running console's API; this
command is for the console's own machine: it calls provisioning/services.py directly, as no user (a command is
unrestricted; the change history records ``command:provision``).
"""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from configdb.management.base import ConfigCommand
from provisioning.services import SUCCESS, ProvisioningError, provision


class Command(ConfigCommand):
    help = ("Provision a pacing cluster or node: the PacingService alarm conditions and the Stat Server's PACS_* "
            "statistics and filter, added if absent (--overwrite: replaced; --dry-run: listed, nothing written).")

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="the pacing application (cluster or node)")
        parser.add_argument("--app", dest="app", help="the same, named as the vendor's tool does (-app)")
        parser.add_argument("--overwrite", action="store_true",
                            help="replace the pacing-specific objects that exist (what they lose is listed)")
        parser.add_argument("--dry-run", action="store_true", help="list the changes; write nothing")

    def handle(self, *args, **options):
        name = options["name"] or options["app"]
        if not name or (options["name"] and options["app"] and options["name"] != options["app"]):
            raise CommandError("Name one pacing application: provision NAME (or --app NAME).")
        try:
            plan = provision(name, user=None, overwrite=options["overwrite"], dry_run=options["dry_run"])
        except ProvisioningError as exc:
            raise CommandError(exc.message) from None
        except ValidationError as exc:
            raise CommandError(f"Nothing was written: {'; '.join(exc.messages)}") from None
        for change in plan.changes:
            self.stdout.write(f"  {change.line()}")
        for kept in plan.kept:
            self.stdout.write(f"  {kept.line()}")
        if plan.dry_run:
            self.stdout.write(f"Dry run: {len(plan.changes)} change(s) planned; nothing was written.")
        else:
            self.stdout.write(SUCCESS)
