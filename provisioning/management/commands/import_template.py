"""``manage.py import_template FILE.apd [FILE.xml] [--defaults FILE.txt]``: GAX's Import Application Template."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from configdb.management.base import ConfigCommand
from configdb.models import Tenant
from provisioning.templates import service


class Command(ConfigCommand):
    help = (
        "Import an application template: its .apd file (name, type, version, default options) and, optionally, "
        "its option metadata .xml (descriptions, types, defaults, valid values), as GAX's Import Application "
        "Template and Import Metadata do (formats: docs/templates.md). --defaults takes the default options from "
        "GAX's plain-text option export instead of the .apd. A template of the same name is updated. Any problem "
        "is printed with the file and line, nothing is written, and the command exits with status 1. Recorded "
        "in the history as 'command:import_template'."
    )

    def add_arguments(self, parser):
        parser.add_argument("apd", metavar="FILE.apd", help="The application template file.")
        parser.add_argument("xml", metavar="FILE.xml", nargs="?", help="The application metadata file.")
        parser.add_argument("--defaults", metavar="FILE.txt",
                            help="Default options in GAX's plain-text format ([section] / key=value).")
        parser.add_argument("--tenant", help=f"The tenant that owns a new template (default: "
                                             f"{service.DEFAULT_TENANT}).")

    @staticmethod
    def _read(path: str | None) -> tuple[bytes | None, str]:
        if path is None:
            return None, ""
        name = Path(path).name
        try:
            with open(path, "rb") as stream:
                return service.read_upload(stream, name, Path(path).stat().st_size), name
        except OSError as exc:
            raise CommandError(f"{path}: cannot be read ({exc.strerror}).") from None

    def handle(self, *args, **options):
        tenant = None
        if options["tenant"]:
            tenant = Tenant.objects.filter(name=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"No tenant named '{options['tenant']}'.")
        try:
            apd, apd_name = self._read(options["apd"])
            xml, xml_name = self._read(options["xml"])
            defaults, defaults_name = self._read(options["defaults"])
            result = service.import_template(apd, xml, user=None, apd_name=apd_name, xml_name=xml_name or "",
                                             defaults_bytes=defaults, defaults_name=defaults_name, tenant=tenant)
        except service.TemplateError as exc:
            for line in exc.messages:
                self.stderr.write(f"  {line}")
            raise CommandError("The template was not imported; nothing was written.") from None
        except ValidationError as exc:
            for line in service.validation_messages(exc, Path(options["apd"]).name):
                self.stderr.write(f"  {line}")
            raise CommandError("The template was not imported; nothing was written.") from None
        self.stdout.write(self.style.SUCCESS(result.summary))
