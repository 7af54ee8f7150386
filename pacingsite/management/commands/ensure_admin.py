"""``manage.py ensure_admin``: make sure an administrator account exists and say how to log in.

Used by the run command. A new account gets a random password, kept in ``var/admin-password``
(mode 600) so the next run can print it again; an account created by hand is never touched.
"""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the administrator account if it does not exist, and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help="account name (default: admin)")
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/", help="where the UI is served")

    def handle(self, *args, username, url, **options):
        User = get_user_model()
        password_file = settings.VAR_DIR / "admin-password"
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(username=username, email="", password=password)
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(password + "\n")
            self.stdout.write(self.style.SUCCESS(f"Created the administrator account '{username}'."))
        shown = None
        if password_file.exists():
            candidate = password_file.read_text().strip()
            if User.objects.get(username=username).check_password(candidate):
                shown = candidate
        if shown:
            self.stdout.write(f"Log in at {url} as '{username}' with password: {shown}")
            self.stdout.write(f"(the password is kept in {password_file})")
        else:
            self.stdout.write(f"Log in at {url} with your existing '{username}' account.")
