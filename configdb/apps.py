from django.apps import AppConfig


class ConfigdbConfig(AppConfig):
    name = "configdb"
    verbose_name = "Configuration"

    def ready(self):
        from . import history, signals  # noqa: F401  (connects the same-tenant guards)

        history.connect()
        from .api import schema  # noqa: F401  (registers the drf-spectacular extensions)
