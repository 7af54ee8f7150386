from django.apps import AppConfig


class ConfigdbConfig(AppConfig):
    name = "configdb"
    verbose_name = "Configuration"
