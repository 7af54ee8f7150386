"""Login throttling (OURS; docs/threat-model.md): password guessing against the admin's login is slowed to a few
tries per quarter of an hour.

Counted per account name (whatever was typed: a name that does not exist is locked like one that does, so the
lock tells an attacker nothing) and per client address, in the database (``LoginFailure``), so that every
gunicorn worker and every web replica share the count:

* ``PACING_LOGIN_FAILURES`` (default 5) failed logins of one account name within ``PACING_LOGIN_WINDOW_S``
  (900 s) lock that name until the window ends — its right password is refused too;
* four times as many failures from one address lock the address (one client trying many names).

A successful login clears its name's count. The lock is enforced where passwords are checked
(``ThrottledModelBackend``, the only authentication backend), so every login form (the admin's, the browsable
API's, which is the same page) obeys it; the admin's login form says how long is left. API tokens are not
throttled: they are 256-bit random keys, which no rate of guessing reaches.

The client address is ``REMOTE_ADDR``; behind ``PACING_PROXY_HOPS`` trusted proxies (default 0) it is the entry
that many places from the right of ``X-Forwarded-For`` (the one the outermost trusted proxy appended; anything to
its left was written by the client).
"""

from __future__ import annotations

import datetime
import math

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

ADDRESS_FACTOR = 4


def _limits() -> tuple[int, float]:
    return int(getattr(settings, "PACING_LOGIN_FAILURES", 5)), float(getattr(settings, "PACING_LOGIN_WINDOW_S", 900))


def client_address(request) -> str:
    if request is None:
        return ""
    hops = int(getattr(settings, "PACING_PROXY_HOPS", 0))
    if hops > 0:
        chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops][:64]
    return (request.META.get("REMOTE_ADDR") or "")[:64]


def _keys(username: str | None, request) -> list[tuple[str, int]]:
    failures, _ = _limits()
    keys = []
    if username:
        keys.append((f"user:{username.strip().casefold()[:150]}", failures))
    address = client_address(request)
    if address:
        keys.append((f"addr:{address}", failures * ADDRESS_FACTOR))
    return keys


def locked_for(username: str | None, request) -> float:
    """Seconds until ``username`` may try again from ``request``'s address (0: not locked)."""
    from pacingsite.models import LoginFailure

    _, window = _limits()
    now = timezone.now()
    left = 0.0
    keys = dict(_keys(username, request))
    for row in LoginFailure.objects.filter(key__in=list(keys)):
        ends = row.window_start + datetime.timedelta(seconds=window)
        if row.count >= keys[row.key] and ends > now:
            left = max(left, (ends - now).total_seconds())
    return left


def record_failure(username: str | None, request) -> None:
    from pacingsite.models import LoginFailure

    _, window = _limits()
    now = timezone.now()
    start = now - datetime.timedelta(seconds=window)
    for key, _limit in _keys(username, request):
        with transaction.atomic():
            updated = LoginFailure.objects.filter(key=key, window_start__gt=start).update(count=F("count") + 1)
            if updated:
                continue
            # no row, or one whose window ended: a new window starting now
            if LoginFailure.objects.filter(key=key).update(count=1, window_start=now):
                continue
            try:
                with transaction.atomic():
                    LoginFailure.objects.create(key=key, count=1, window_start=now)
            except IntegrityError:           # another worker created it meanwhile
                LoginFailure.objects.filter(key=key).update(count=F("count") + 1)


def clear(username: str | None) -> None:
    from pacingsite.models import LoginFailure

    if username:
        LoginFailure.objects.filter(key=f"user:{username.strip().casefold()[:150]}").delete()


def lock_message(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (f"Too many failed logins: this account name (or your address) may try again in {minutes} minute"
            f"{'' if minutes == 1 else 's'}.")


class ThrottledModelBackend(ModelBackend):
    """Django's ModelBackend, refusing any password for a locked account name or address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if locked_for(username, request):
            raise PermissionDenied(lock_message(locked_for(username, request)))
        return super().authenticate(request, username=username, password=password, **kwargs)

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


@receiver(user_login_failed, dispatch_uid="pacingsite.throttle.failed")
def _on_failure(sender, credentials, request=None, **kwargs):
    record_failure(credentials.get("username"), request)


@receiver(user_logged_in, dispatch_uid="pacingsite.throttle.succeeded")
def _on_success(sender, request, user, **kwargs):
    clear(user.get_username())
