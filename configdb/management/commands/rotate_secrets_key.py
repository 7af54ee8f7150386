"""``manage.py rotate_secrets_key``: re-encrypt every stored secret under the newest key of PACING_SECRETS_KEY.

Run it after putting the new key in front of ``PACING_SECRETS_KEY`` (and restarting every process), before the
old key is dropped (configdb/rotation.py; docs/deployment.md, "Rotating the secrets key").
"""

from django.core.management.base import BaseCommand, CommandError

from configdb.rotation import rotate


class Command(BaseCommand):
    help = ("Re-encrypt every stored secret (secret option values, DAP passwords, certificate keys) under the newest "
            "key of PACING_SECRETS_KEY; --dry-run counts only. Exit 1 when a secret decrypts with no configured key.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be re-encrypted; write nothing")

    def handle(self, *args, dry_run: bool, **options):
        report = rotate(dry_run=dry_run)
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        self.stdout.write(f"{report.rotated} secret(s) {verb} under the newest key"
                          + ("" if dry_run else f" ({report.rows} row(s) rewritten)")
                          + f"; {report.current} already were.")
        if report.sealed:
            lines = "\n".join(f"  {where}" for where in report.sealed[:50])
            more = f"\n  … and {len(report.sealed) - 50} more" if len(report.sealed) > 50 else ""
            raise CommandError(f"{len(report.sealed)} secret(s) decrypt with no configured key and were left as they "
                               f"are (restore the key that encrypted them, or set them again):\n{lines}{more}")
