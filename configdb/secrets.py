"""Which option keys hold secrets, and how a secret is shown.

Configuration Server keeps credentials in ordinary options (``ewt/password`` in the
``hybrid_integration`` transaction, DAP passwords). Any key *named* like a credential is treated
as one everywhere: masked in the admin, masked in option exports, never logged.
"""

import re

MASK = "********"

#: how a secret is stored: this prefix, then a Fernet token (configdb.crypto); never accepted as input
TOKEN_PREFIX = "enc:v1:"  # noqa: S105  (a prefix, not a secret)


class SealedSecret(str):
    """A stored secret that does not decrypt with the configured keys (the key was changed or lost, or the
    value was planted): its stored token, kept as it is. Reads show it masked and flagged; saving the object
    writes the same token back; code that needs the plain value must check for it (``is_sealed``)."""

    __slots__ = ()


def is_sealed(value: object) -> bool:
    return isinstance(value, SealedSecret)

_SECRET_KEY = re.compile(
    r"(password|passwd|passphrase|secret|token|credential|api[-_.]?key|private[-_.]?key"
    r"|(^|[-_.])(pass|pwd)($|[-_.]))",
    re.IGNORECASE,
)


def is_secret_key(key: str) -> bool:
    """True for keys such as ``password``, ``client_secret``, ``db-passwd``, ``api_key`` or ``pass``
    (but not ``bypass`` or ``passive-mode``)."""
    return bool(_SECRET_KEY.search(key or ""))


def mask(value: str) -> str:
    """What the UI shows instead of a secret value (nothing at all for an empty one)."""
    return MASK if value else ""
