"""``manage.py export_config --tenant NAME [--output FILE]``: a tenant's whole configuration as JSON."""

from pathlib import Path

from django.core.management.base import CommandError

from configdb import transfer
from configdb.management.base import ConfigCommand
from configdb.models import Tenant


class Command(ConfigCommand):
    help = (
        "Export every object a tenant owns (the tenant and its options, folders, hosts, application templates, "
        "applications with their ports, connections and served tenants, database access points, switches, DNs, "
        "virtual queues, media types, skills, persons with their skill levels, agent groups, alarm conditions and "
        "transactions) as one JSON document (format 'pacing-console-config', version 1; docs/config-transfer.md). "
        "Related objects are named by natural key (name, folder path, switch + number), never by database id, so "
        "the file imports into another database with 'manage.py import_config'. Secrets (option keys named like "
        "a password, secret, token…, and a DAP's password) are written encrypted as enc:v1: tokens, never in "
        "clear: the file imports only where PACING_SECRETS_KEY is the same. A progress bar goes to standard "
        "error when it is a terminal (or with --progress)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="NAME", help="The tenant to export (its name).")
        parser.add_argument("--output", "-o", default="-", metavar="FILE",
                            help="Write the document to FILE (replaced if it exists); '-', the default, writes "
                                 "it to standard output.")
        parser.add_argument("--progress", action="store_true",
                            help="Show the progress bar even when standard error is not a terminal.")

    def handle(self, *args, **options):
        name = options["tenant"]
        tenant = Tenant.objects.filter(name=name).first()
        if tenant is None:
            raise CommandError(f"No tenant named '{name}'.")
        stream = getattr(self.stderr, "_out", self.stderr)
        try:
            with transfer.progress_bar(stream, force=options["progress"], desc="export") as bar:
                document = transfer.export_tenant(tenant, progress=bar)
        except transfer.TransferError as exc:
            for line in exc.errors:
                self.stderr.write(f"  {line}")
            raise CommandError(exc.detail) from None
        text = transfer.dumps(document)
        count = sum(len(v) for k, v in document["objects"].items() if k != "tenant") + 1
        output = options["output"]
        if output == "-":
            self.stdout.write(text, ending="")
        else:
            path = Path(output)
            temporary = path.with_name(f".{path.name}.tmp")
            try:
                temporary.write_text(text, encoding="utf-8")
                temporary.replace(path)
            except OSError as exc:
                temporary.unlink(missing_ok=True)
                raise CommandError(f"Cannot write {output}: {exc.strerror or exc}.") from None
        where = "standard output" if output == "-" else output
        self.stderr.write(self.style.SUCCESS(f"Exported tenant '{tenant.name}': {count} objects to {where}."))
