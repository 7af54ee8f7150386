"""Base of the commands that change configuration: their changes are recorded as theirs."""

from django.core.management.base import BaseCommand

from ..history import acting_as


class ConfigCommand(BaseCommand):
    """A management command whose changes the history records as ``command:<name>``."""

    def execute(self, *args, **options):
        name = type(self).__module__.rsplit(".", 1)[-1]
        with acting_as(f"command:{name}", "command"):
            return super().execute(*args, **options)
