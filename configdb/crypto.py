"""Secrets at rest: Fernet encryption of secret option values and secret fields.

A secret is stored as ``enc:v1:<Fernet token>``; in memory it is plain text, so the model code
never sees ciphertext and the database never sees plain text. Keys come from
``settings.PACING_SECRETS_KEYS`` (the first encrypts, all decrypt: rotation is adding a new key
in front, ``manage.py rotate_secrets_key`` (configdb/rotation.py), then dropping the old one). Only tokens of the
newest key are remembered for reuse, so re-saving a secret read under an older key re-encrypts it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .secrets import TOKEN_PREFIX, SealedSecret, is_secret_key

PREFIX = TOKEN_PREFIX


class SecretDecryptionError(RuntimeError):
    """A stored secret does not decrypt with the configured keys."""


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.PACING_SECRETS_KEYS])


@lru_cache(maxsize=1)
def _newest() -> Fernet:
    return Fernet(settings.PACING_SECRETS_KEYS[0])


#: ciphertexts recently read, by a digest of their plain value: saving an unchanged secret keeps its
#: stored token (no churn in the database, and an exported file imports back to the same bytes)
_KNOWN: OrderedDict[str, str] = OrderedDict()
_KNOWN_LIMIT = 4096


def _remember(plain: str, token: str) -> None:
    _KNOWN[hashlib.sha256(plain.encode()).hexdigest()] = token
    _KNOWN.move_to_end(hashlib.sha256(plain.encode()).hexdigest())
    while len(_KNOWN) > _KNOWN_LIMIT:
        _KNOWN.popitem(last=False)


@receiver(setting_changed)
def _reset(setting, **kwargs):
    if setting == "PACING_SECRETS_KEYS":
        _fernet.cache_clear()
        _newest.cache_clear()
        _KNOWN.clear()


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt(value: str) -> str:
    if not value or not isinstance(value, str) or is_encrypted(value):
        return str(value) if isinstance(value, SealedSecret) else value
    known = _KNOWN.get(hashlib.sha256(value.encode()).hexdigest())
    if known is not None:
        return known
    token = PREFIX + _fernet().encrypt(value.encode()).decode()
    _remember(value, token)
    return token


def decrypt(value: str) -> str:
    if not is_encrypted(value):
        return value
    token = value[len(PREFIX):].encode()
    try:
        plain = _newest().decrypt(token).decode()
    except InvalidToken:
        try:
            plain = _fernet().decrypt(token).decode()
        except InvalidToken:
            raise SecretDecryptionError(
                "A stored secret does not decrypt with PACING_SECRETS_KEY: the key was changed or lost. "
                "Restore the old key (keys may be listed comma-separated, newest first)."
            ) from None
        return plain       # under an older key: not remembered, so saving it again encrypts it under the newest
    _remember(plain, value)
    return plain


def is_current(value: str) -> bool:
    """Whether a stored token is encrypted under the newest key (what ``rotate_secrets_key`` leaves)."""
    if not is_encrypted(value):
        return False
    try:
        _newest().decrypt(value[len(PREFIX):].encode())
    except InvalidToken:
        return False
    return True


def open_stored(value):
    """A stored value as Python sees it: decrypted, or — when it does not decrypt — a SealedSecret holding the
    token, so reading a row never fails (a list stays a 200) and saving it keeps the token unchanged."""
    if not is_encrypted(value):
        return value
    try:
        return decrypt(value)
    except (SecretDecryptionError, UnicodeDecodeError, ValueError):
        return SealedSecret(value)


def _map_secrets(options, func):
    if not isinstance(options, Mapping):
        return options
    out = {}
    for section, keys in options.items():
        if isinstance(keys, Mapping):
            out[section] = {k: func(v) if is_secret_key(k) and isinstance(v, str) else v for k, v in keys.items()}
        else:
            out[section] = keys
    return out


def encrypt_options(options):
    return _map_secrets(options, encrypt)


def decrypt_options(options):
    return _map_secrets(options, decrypt)


def open_stored_options(options):
    return _map_secrets(options, open_stored)


def sealed_paths(options) -> list[tuple[str, str]]:
    """(section, key) of every SealedSecret in an options table."""
    return [(s, k) for s, keys in (options or {}).items() if isinstance(keys, Mapping)
            for k, v in keys.items() if isinstance(v, SealedSecret)]
