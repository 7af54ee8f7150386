"""WSGI entry point for gunicorn (`pacingsite.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacingsite.settings")

application = get_wsgi_application()
