"""Webhook: each event POSTed as JSON (``Event.as_dict``, secrets masked) to ``PACING_ALARM_WEBHOOK``.

urllib3 does the retries (``Retry``): connection errors, read errors and the statuses 429, 500, 502, 503
and 504 are retried — 3 times by default, with exponential backoff (0.5 s, 1 s, 2 s; a ``Retry-After``
header is obeyed up to 30 s) — inside a timeout per attempt (3 s to connect, 5 s to read). Any other
status (a 4xx) is final. Every POST carries ``Idempotency-Key`` (one UUID per event, the same on each
retry) so a receiver can drop the duplicate a retried read timeout may cause, and
``User-Agent: pacing-console``. ``PACING_ALARM_WEBHOOK_TOKEN``, when set, is sent as
``Authorization: Bearer …``; a ``user:password@`` in the URL as basic authentication. Neither is logged:
the sink names its URL without credentials, path and query.

Synchronous: ``WebhookTransport.send`` runs on the sink's dispatcher thread (alarms.sinks), never on the
caller's.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

import urllib3
from urllib3.util import Retry

from ..events import Event

__all__ = ["DeliveryError", "WebhookConfig", "WebhookTransport", "parse_url"]

RETRY_STATUSES = (429, 500, 502, 503, 504)


class ConfigError(ValueError):
    """A webhook setting that cannot work; the message names the setting."""


class DeliveryError(RuntimeError):
    """The receiver did not accept the event after the retries (the message says why)."""


@dataclass(frozen=True)
class WebhookConfig:
    url: str                          # without the user:password part
    safe_name: str                    # scheme://host:port, for logs
    basic_auth: str | None = None     # "user:password"
    token: str = ""
    retries: int = 3
    backoff_s: float = 0.5
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 5.0


def parse_url(url: str, *, setting: str = "PACING_ALARM_WEBHOOK", token: str = "", **tuning) -> WebhookConfig:
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise ConfigError(f"{setting}: not a URL ({exc}); expected http(s)://host[:port]/path.") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{setting}: the URL must start with http:// or https://, not "
                          f"{(parts.scheme + '://') if parts.scheme else 'nothing'}.")
    if not parts.hostname:
        raise ConfigError(f"{setting}: the URL names no host (e.g. https://hooks.example.com/pacing).")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{setting}: the URL's port is not a number between 1 and 65535.") from None
    if port == 0:
        raise ConfigError(f"{setting}: the URL's port is not a number between 1 and 65535.")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host + (f":{port}" if port else "")
    basic = None
    if parts.username is not None:
        basic = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return WebhookConfig(url=urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
                         safe_name=f"{parts.scheme}://{netloc}", basic_auth=basic, token=token.strip(), **tuning)


MAX_RETRY_AFTER_S = 30.0


class _Retry(Retry):
    """urllib3's Retry, with a receiver's ``Retry-After`` obeyed up to MAX_RETRY_AFTER_S only: one event must not
    hold the sink's thread for an hour while its queue fills."""

    def get_retry_after(self, response):
        after = super().get_retry_after(response)
        return None if after is None else min(after, MAX_RETRY_AFTER_S)


class WebhookTransport:
    def __init__(self, config: WebhookConfig):
        self.config = config
        self.name = f"webhook {config.safe_name}"
        retry = _Retry(total=config.retries, connect=config.retries, read=config.retries,
                       status=config.retries, other=0, backoff_factor=config.backoff_s,
                       status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"POST"}),
                       respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False)
        self._pool = urllib3.PoolManager(
            retries=retry, timeout=urllib3.Timeout(connect=config.connect_timeout_s, read=config.read_timeout_s),
            maxsize=1, block=False)
        headers = {"Content-Type": "application/json", "User-Agent": "pacing-console"}
        if config.basic_auth is not None:
            headers["Authorization"] = urllib3.make_headers(basic_auth=config.basic_auth)["authorization"]
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        self._headers = headers

    def send(self, event: Event, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
        headers = {**self._headers, "Idempotency-Key": str(uuid.uuid4())}
        try:
            response = self._pool.request("POST", self.config.url, body=body, headers=headers,
                                          redirect=False, preload_content=True)
        except urllib3.exceptions.MaxRetryError as exc:
            reason = exc.reason.__class__.__name__ if exc.reason else "error"
            raise DeliveryError(f"no answer after {self.config.retries} retries ({reason})") from None
        except urllib3.exceptions.HTTPError as exc:
            raise DeliveryError(f"{exc.__class__.__name__}") from None
        if not 200 <= response.status < 300:
            raise DeliveryError(f"answered HTTP {response.status}"
                                + (f" after {self.config.retries} retries" if response.status in RETRY_STATUSES
                                   else ""))

    def close(self) -> None:
        self._pool.clear()
