"""API tokens: what automation scripts authenticate with (``Authorization: Token <key>``).

Only a SHA-256 digest of each token is stored (tokens are 256-bit random strings, so a plain,
fast digest is the right tool — a password hash would only slow every API call); the key itself
is shown once, when it is issued.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "pc_"  # noqa: S105  (a marker, not a secret)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, db_index=True, editable=False,
                              help_text="The first characters of the key, to tell tokens apart.")
    description = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @property
    def expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()

    @classmethod
    def issue(cls, user, *, description: str = "", expires=None) -> tuple["ApiToken", str]:
        """Create a token; returns it and the key, which is never stored and cannot be shown again."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, key_digest=digest(key), prefix=key[:10], description=description,
                                   expires=expires)
        return token, key

    @classmethod
    def lookup(cls, key: str) -> "ApiToken | None":
        return cls.objects.select_related("user").filter(key_digest=digest(key)).first()


class LoginFailure(models.Model):
    """Failed logins of one account name (``user:<name>``) or client address (``addr:<ip>``) in the current
    window (pacingsite/throttle.py). Rows are few and small: one per name or address tried lately."""

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()

    def __str__(self):
        return f"{self.key}: {self.count} since {self.window_start:%Y-%m-%d %H:%M:%S}"
