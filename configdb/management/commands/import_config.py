"""``manage.py import_config FILE [--replace] [--dry-run]``: write a tenant's configuration from JSON."""

from django.core.management.base import CommandError

from configdb import transfer
from configdb.management.base import ConfigCommand


class Command(ConfigCommand):
    help = (
        "Import a document written by 'manage.py export_config' (or GET /api/v1/config/export/) into the tenant "
        "it names, creating that tenant if it does not exist. Objects are matched by natural key: missing ones "
        "are created and existing ones are set to the file's values; with --replace, the tenant's objects the "
        "file does not list are deleted too. All or nothing: the whole file is checked first, every object is "
        "validated as the admin validates it, and any problem writes nothing; every problem is listed, each "
        "naming its record (e.g. \"virtual-queues[3] (Proactive Chat): switch: no switch named 'X'\"), and the "
        "command exits with status 1. Secrets must be enc:v1: tokens that decrypt with this installation's "
        "PACING_SECRETS_KEY. Prints the number of objects created, updated, deleted and unchanged per type, then "
        "a warning for each pacing virtual queue whose alias differs from its number (imported all the same). "
        "Changes are recorded in the history as 'command:import_config'. At most 64 MiB are read."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="The JSON document; '-' reads standard input.")
        parser.add_argument("--replace", action="store_true",
                            help="Also delete the tenant's objects that the file does not list.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Check everything and report what would change, but write nothing.")
        parser.add_argument("--progress", action="store_true",
                            help="Show the progress bar even when standard error is not a terminal.")

    def handle(self, *args, **options):
        stream = getattr(self.stderr, "_out", self.stderr)
        try:
            document = transfer.read_document(options["file"])
            with transfer.progress_bar(stream, force=options["progress"], desc="import") as bar:
                summary = transfer.import_document(document, replace=options["replace"],
                                                   dry_run=options["dry_run"], progress=bar)
        except transfer.TransferError as exc:
            for line in exc.errors:
                self.stderr.write(f"  {line}")
            raise CommandError(exc.detail) from None
        mode = " (replace)" if summary.replace else ""
        created = " (created)" if summary.tenant_created else ""
        self.stdout.write(f"Tenant '{summary.tenant}'{created}{mode}:")
        for line in summary.lines():
            self.stdout.write(f"  {line}")
        for warning in summary.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        totals = summary.totals
        done = ", ".join(f"{totals[s]} {s}" for s in transfer.STATUSES)
        if summary.dry_run:
            self.stdout.write(self.style.WARNING(f"Dry run: nothing was written ({done} if imported)."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported: {done}."))
