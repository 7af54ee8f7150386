"""``manage.py doctor``: the config doctor's findings, grouped by severity; exit status 1 when there is an error.

Read-only (it changes nothing, so it is a plain command, not a ConfigCommand). ``--format json`` prints the same
document as ``GET /api/v1/doctor/``, for scripts. Run as a command it sees every tenant (configdb.access: a
command acts with the operator's access to the database).
"""

import json

from django.core.management.base import BaseCommand, CommandError

from provisioning import doctor


class Command(BaseCommand):
    help = ("Check the configuration for what keeps pacing from working (docs/troubleshooting.md). Prints the "
            "findings grouped by severity; exits with status 1 when any is an error.")

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--severity", choices=list(doctor.SEVERITIES),
                            help="Only the findings of this severity (the exit status still counts errors).")

    def handle(self, *args, **options):
        findings = doctor.run()
        counts = doctor.summary(findings)
        shown = [f for f in findings if options["severity"] in (None, f.severity)]
        if options["format"] == "json":
            self.stdout.write(json.dumps({"summary": counts, "findings": [f.as_dict() for f in shown]}, indent=2))
        else:
            self._text(shown, counts)
        if counts[doctor.ERROR]:
            raise CommandError(f"The config doctor found {counts[doctor.ERROR]} error(s).", returncode=1)

    def _text(self, findings, counts):
        styles = {doctor.ERROR: self.style.ERROR, doctor.WARNING: self.style.WARNING, doctor.INFO: str}
        for severity in doctor.SEVERITIES:
            group = [f for f in findings if f.severity == severity]
            if not group:
                continue
            self.stdout.write(styles[severity](f"{severity.upper()}S ({len(group)})"))
            for f in group:
                self.stdout.write(f"  [{f.code}] {f.object_type} {f.object_name}: {f.message}")
                if f.url:
                    self.stdout.write(f"      fix: {f.url}")
        total = ", ".join(f"{counts[s]} {s}(s)" for s in doctor.SEVERITIES)
        self.stdout.write(self.style.SUCCESS(f"Config doctor: {total}.") if not counts[doctor.ERROR]
                          else f"Config doctor: {total}.")
