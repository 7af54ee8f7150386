"""App configs of the project itself: the GAX-style admin site and the site-level commands."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PacingsiteConfig(AppConfig):
    default = True
    name = "pacingsite"
    verbose_name = "Pacing Console"

    def ready(self):
        from pacingsite import throttle  # noqa: F401 - connects the login-throttling signal handlers


class PacingAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "pacingsite.admin_site.PacingAdminSite"
