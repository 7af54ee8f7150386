"""``manage.py prune_history``: the histories' upkeep now (pacing/retention.py), as the nodes run it every 6 h."""

from django.core.management.base import BaseCommand

from pacing.retention import upkeep


class Command(BaseCommand):
    help = ("Delete change records older than PACING_CHANGE_HISTORY_DAYS and the Redis cycle history of clusters no "
            "longer configured; trim cycle lists to their caps. --dry-run counts only.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")

    def handle(self, *args, dry_run: bool, **options):
        self.stdout.write(upkeep(dry_run=dry_run).line())
