"""Which Redis the product talks to, read once: ``REDIS_URL`` or Redis Sentinel, and the clients built for it.

Every Redis client of the product comes from here: the pacing service's shared client (``pacing.redis``:
the leader lease, the stats store, the cycle's history), the background imports' running count
(``configdb.import_jobs``), ``manage.py wait_for_services``, Celery's broker URL and transport options
(``pacingsite/settings.py``), and the Redis line of a node's environment file (``provisioning.environment``).
So a Sentinel deployment is one setting, not five code paths that each parse a URL.

**Why it lives in configdb**: imports point down only (pacingsite → provisioning → pacing → alarms →
configdb), and ``configdb.import_jobs`` needs a client too, so the one module that understands the target
sits at the bottom. It is a pure helper: redis-py and ``ImproperlyConfigured`` only, no settings read at
import, no models; the callers pass the values (``target_from_settings()`` is the one that reads settings,
lazily, so a test that changes ``settings.REDIS_URL`` is followed).

The forms accepted (``REDIS_URL``):

* ``redis://[[user]:password@]host[:port][/db]``, ``rediss://…`` (TLS), ``unix://[[user]:password@]/path
  [?db=N]``: redis-py's own URL forms, handed to ``redis.Redis.from_url`` as they are.
* ``redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/<service>[/<db>]`` -- **OURS** (neither
  redis-py nor kombu parses it; each has its own Sentinel form, ``sentinel://…;sentinel://…`` in kombu's
  case, which this module writes for Celery): the hosts are the SENTINELS (port default 26379), ``service``
  the monitored master's name (``sentinel monitor <service> …``), ``db`` the database (default 0). The user
  and password are those of the Redis servers (the primary and its replicas), as in every Redis URL; the
  sentinels' own password, if they have one (``requirepass`` in sentinel.conf), is
  ``REDIS_SENTINEL_PASSWORD``.

Or, instead of a URL, the variables ``REDIS_SENTINELS=host:port,host:port,…`` with ``REDIS_SENTINEL_SERVICE``
(default ``mymaster``, redis' own example name) and ``REDIS_SENTINEL_DB`` (default 0): ``environ_url()``
turns them into the equivalent ``redis+sentinel://`` URL, which settings keep as ``REDIS_URL`` (so "is Redis
configured" stays one test everywhere: ``settings.REDIS_URL`` non-empty). ``REDIS_PASSWORD`` is the Redis
servers' password when the URL carries none (a password kept out of the URL, e.g. from a secrets file);
both at once is refused, as is a variable that means nothing for the target (``REDIS_SENTINEL_SERVICE``
next to a ``redis://`` URL): a setting that is silently ignored is a failover that silently does not
happen. Every refusal is an ``ImproperlyConfigured`` naming the variable.

How a failover looks to each client is in docs/runtime.md, "Redis Sentinel".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

__all__ = ["DEFAULT_SENTINEL_PORT", "DEFAULT_SERVICE", "SENTINEL_SCHEME", "RedisTarget", "celery_broker",
           "client", "client_options", "close", "environ_url", "parse", "redacted", "target_from_settings"]

SENTINEL_SCHEME = "redis+sentinel"
DEFAULT_SENTINEL_PORT = 26379
DEFAULT_SERVICE = "mymaster"
PLACEHOLDER = "CHANGE_ME"               # what a password is replaced by in text shown or written (environment.py)
_PLAIN_SCHEMES = ("redis", "rediss", "unix")
_SERVICE = re.compile(r"[A-Za-z0-9._-]+")


def client_options() -> dict:
    """redis-py options of every product client. Short timeouts and two quick retries (redis-py's default backs
    off for seconds): a Redis that is down must fail a pacing cycle (refresh period: seconds) quickly, and a
    Sentinel client retries into the new primary as soon as the sentinels name it."""
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    return {"decode_responses": False, "socket_timeout": 2.0, "socket_connect_timeout": 2.0,
            "health_check_interval": 30, "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2)}


@dataclass(frozen=True)
class RedisTarget:
    """A parsed target. ``url``: as configured (the key of the per-process client caches); ``scheme``:
    ``redis``, ``rediss``, ``unix`` or ``redis+sentinel``; for Sentinel, ``sentinels`` ((host, port), …),
    ``service`` and ``db``; ``username`` / ``password``: of the Redis servers (from the URL or
    REDIS_PASSWORD); ``sentinel_password``: of the sentinels (REDIS_SENTINEL_PASSWORD)."""

    url: str
    scheme: str
    sentinels: tuple[tuple[str, int], ...] = ()
    service: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None

    @property
    def is_sentinel(self) -> bool:
        return self.scheme == SENTINEL_SCHEME


def _fail(variable: str, message: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{variable}: {message}")


def _port(text: str, variable: str, what: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise _fail(variable, f"the port of {what!r} must be a number from 1 to 65535, not {text!r}.")
    return int(text)


def _db(text: str, variable: str) -> int:
    if not text.isdigit():
        raise _fail(variable, f"the database must be a number (0, 1, …), not {text!r}.")
    return int(text)


def _hosts(text: str, variable: str) -> tuple[tuple[str, int], ...]:
    """``host[:port],…`` (IPv6 in brackets: ``[::1]:26379``) → ((host, port), …)."""
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise _fail(variable, f"an empty sentinel address in {text!r} (host:port,host:port,…).")
        if item.startswith("["):
            host, bracket, rest = item[1:].partition("]")
            if not bracket or not host or (rest and not rest.startswith(":")):
                raise _fail(variable, f"{item!r} is not host:port (an IPv6 address goes in brackets: [::1]:26379).")
            port = rest[1:]
        else:
            host, _, port = item.partition(":")
            if not host or ":" in port:
                raise _fail(variable, f"{item!r} is not host:port (an IPv6 address goes in brackets: [::1]:26379).")
        out.append((host, _port(port, variable, item) if port else DEFAULT_SENTINEL_PORT))
    return tuple(out)


def _service(text: str, variable: str) -> str:
    if not _SERVICE.fullmatch(text):
        raise _fail(variable, f"the Sentinel service (the master's name in 'sentinel monitor <name> …') must be "
                              f"letters, digits, '.', '_' or '-', not {text!r}.")
    return text


def _parse_sentinel(url: str, variable: str) -> RedisTarget:
    rest = url[len(SENTINEL_SCHEME) + 3:]
    if "?" in rest or "#" in rest:
        raise _fail(variable, "a redis+sentinel:// URL takes no query or fragment (the sentinels' password is "
                              "REDIS_SENTINEL_PASSWORD).")
    netloc, slash, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    if not hosts:
        raise _fail(variable, f"no sentinel in {_redact_url(url)!r}: redis+sentinel://host:port[,host:port…]/"
                              "<service>[/<db>].")
    sentinels = _hosts(hosts, variable)
    parts = path.split("/") if slash else []
    if not parts or not parts[0]:
        raise _fail(variable, f"no service in {_redact_url(url)!r}: redis+sentinel://host:port[,host:port…]/"
                              "<service>[/<db>] (the master's name in 'sentinel monitor <name> …').")
    if len(parts) > 2 or (len(parts) == 2 and not parts[1]):
        raise _fail(variable, f"the path of {_redact_url(url)!r} must be /<service> or /<service>/<db>.")
    service = _service(unquote(parts[0]), variable)
    db = _db(parts[1], variable) if len(parts) == 2 else 0
    return RedisTarget(url, SENTINEL_SCHEME, sentinels, service, db, username, password)


def _parse_plain(url: str, variable: str) -> RedisTarget:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _fail(variable, f"{_redact_url(url)!r} is not a URL ({exc}).") from None
    if parts.scheme == "unix":
        if not parts.path:
            raise _fail(variable, "a unix:// URL needs the socket's path: unix:///path/to/redis.sock[?db=N].")
        db_values = parse_qs(parts.query).get("db", ["0"])
        db = _db(db_values[-1], variable)
    else:
        if not parts.hostname:
            raise _fail(variable, f"no host in {_redact_url(url)!r}: {parts.scheme}://host[:port][/db].")
        if port is not None and not 0 < port < 65536:
            raise _fail(variable, f"the port of {_redact_url(url)!r} must be a number from 1 to 65535.")
        path = parts.path.strip("/")
        db = _db(path, variable) if path else 0
    return RedisTarget(url, parts.scheme, db=db, username=unquote(parts.username) if parts.username else None,
                       password=unquote(parts.password) if parts.password is not None else None)


def parse(url: str, *, password: str = "", sentinel_password: str = "", variable: str = "REDIS_URL") -> RedisTarget:
    """Parse ``url`` (see the module docstring); ``password`` is REDIS_PASSWORD, ``sentinel_password``
    REDIS_SENTINEL_PASSWORD. ImproperlyConfigured naming ``variable`` (or the password's variable)."""
    url = (url or "").strip()
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == SENTINEL_SCHEME:
        target = _parse_sentinel(url, variable)
    elif scheme in _PLAIN_SCHEMES:
        target = _parse_plain(url, variable)
    else:
        shown = f"scheme {scheme + '://'!r}" if scheme else f"{_redact_url(url)!r}"
        raise _fail(variable, f"{shown} is not a Redis URL: redis://host:port/db, rediss://…, unix:///path or "
                              "redis+sentinel://host:port,host:port/<service>[/<db>].")
    if password:
        if target.password is not None:
            raise ImproperlyConfigured(f"REDIS_PASSWORD: {variable} carries a password already; set one of the two.")
        target = RedisTarget(**{**target.__dict__, "password": password})
    if sentinel_password:
        if not target.is_sentinel:
            raise ImproperlyConfigured(f"REDIS_SENTINEL_PASSWORD: {variable} is not a Sentinel target "
                                       "(redis+sentinel://… or REDIS_SENTINELS); it would be ignored.")
        target = RedisTarget(**{**target.__dict__, "sentinel_password": sentinel_password})
    return target


def environ_url(environ: Mapping[str, str]) -> str:
    """REDIS_URL, or the ``redis+sentinel://`` URL of REDIS_SENTINELS / REDIS_SENTINEL_SERVICE /
    REDIS_SENTINEL_DB; "" when neither is set (the embedded Redis). Checks everything (``parse``), so a bad
    value stops the settings from loading with a message naming the variable."""
    def get(name: str) -> str:
        return (environ.get(name) or "").strip()

    url, sentinels = get("REDIS_URL"), get("REDIS_SENTINELS")
    service, db = get("REDIS_SENTINEL_SERVICE"), get("REDIS_SENTINEL_DB")
    if url and sentinels:
        raise ImproperlyConfigured("REDIS_SENTINELS: REDIS_URL is set too; set one of the two (a Sentinel URL is "
                                   "redis+sentinel://host:port,host:port/<service>[/<db>]).")
    if not sentinels:
        for name, value in (("REDIS_SENTINEL_SERVICE", service), ("REDIS_SENTINEL_DB", db)):
            if value:
                where = "REDIS_URL's path (redis+sentinel://…/<service>/<db>)" if url else "REDIS_SENTINELS"
                raise ImproperlyConfigured(f"{name}: applies to REDIS_SENTINELS only, which is unset; use the "
                                           f"{where}.")
    else:
        hosts = _hosts(sentinels, "REDIS_SENTINELS")
        service = _service(service or DEFAULT_SERVICE, "REDIS_SENTINEL_SERVICE")
        number = _db(db, "REDIS_SENTINEL_DB") if db else 0
        url = f"{SENTINEL_SCHEME}://{','.join(_address(h, p) for h, p in hosts)}/{service}/{number}"
    if not url:
        for name in ("REDIS_PASSWORD", "REDIS_SENTINEL_PASSWORD"):
            if get(name):
                raise ImproperlyConfigured(f"{name}: no Redis is configured (REDIS_URL and REDIS_SENTINELS are "
                                           "unset: the embedded Redis, which has no password).")
        return ""
    parse(url, password=get("REDIS_PASSWORD"), sentinel_password=get("REDIS_SENTINEL_PASSWORD"),
          variable="REDIS_URL" if get("REDIS_URL") else "REDIS_SENTINELS")
    return url


def target_from_settings() -> RedisTarget | None:
    """The target of ``settings.REDIS_URL`` with REDIS_PASSWORD / REDIS_SENTINEL_PASSWORD; None when unset."""
    from django.conf import settings

    url = (getattr(settings, "REDIS_URL", "") or "").strip()
    if not url:
        return None
    return parse(url, password=getattr(settings, "REDIS_PASSWORD", "") or "",
                 sentinel_password=getattr(settings, "REDIS_SENTINEL_PASSWORD", "") or "")


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _userinfo(target: RedisTarget, password: str | None) -> str:
    if target.username is None and password is None:
        return ""
    user = quote(target.username or "", safe="")
    return f"{user}:{quote(password, safe='')}@" if password is not None else f"{user}@"


def _redact_url(url: str) -> str:
    """``url`` with the password of its user part replaced (works for the multi-host Sentinel form too)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return f"{scheme}://{user}:{PLACEHOLDER}@{hosts}{slash}{path}"


def redacted(url: str) -> str:
    """``url`` with its password (if any) replaced by CHANGE_ME: for messages, logs and environment files."""
    return _redact_url((url or "").strip())


def client(target: RedisTarget, **options):
    """A redis-py client of ``target`` (``options``: redis-py's, e.g. ``client_options()``). Sentinel: a
    ``master_for`` client, which asks the sentinels for the primary at every (re)connection and drops its
    connections when a primary turned replica answers READONLY, so it follows a failover by itself."""
    import redis
    from redis.sentinel import Sentinel

    if not target.is_sentinel:
        extra = {"password": target.password} if target.password is not None else {}
        return redis.Redis.from_url(target.url, **extra, **options)
    manager = Sentinel(list(target.sentinels), sentinel_kwargs=_sentinel_kwargs(target))
    return manager.master_for(target.service, db=target.db, username=target.username, password=target.password,
                              **options)


def close(client) -> None:
    """Close ``client``'s connections, and a Sentinel client's connections to the sentinels too."""
    client.close()
    manager = getattr(client.connection_pool, "sentinel_manager", None)
    for sentinel in getattr(manager, "sentinels", ()):
        sentinel.close()


def _sentinel_kwargs(target: RedisTarget) -> dict:
    """How to reach the sentinels themselves: short timeouts and NO retry (redis-py's default retries a refused
    connection three times with backoff; the discovery asks the next sentinel instead), their password."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    kwargs = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0, "retry": Retry(NoBackoff(), 0)}
    if target.sentinel_password:
        kwargs["password"] = target.sentinel_password
    return kwargs


def celery_broker(target: RedisTarget | None) -> tuple[str, dict]:
    """Celery's broker URL and the transport options it needs (merged into CELERY_BROKER_TRANSPORT_OPTIONS).
    No target: ``memory://``. Sentinel: kombu's ``sentinel://h:p/db;sentinel://h2:p2/db`` (the db and the
    password on every address: kombu reads the first, and fails over to the next ones) with ``master_name``;
    unix://: kombu's ``redis+socket://`` form (kombu has no ``unix`` transport)."""
    if target is None:
        return "memory://", {}
    if target.is_sentinel:
        auth = _userinfo(target, target.password)
        url = ";".join(f"sentinel://{auth}{_address(h, p)}/{target.db}" for h, p in target.sentinels)
        options: dict = {"master_name": target.service, "sentinel_kwargs": _sentinel_kwargs(target)}
        return url, options
    parts = urlsplit(target.url)
    if target.scheme == "unix":
        return f"redis+socket://{_userinfo(target, target.password)}{parts.path}?virtual_host={target.db}", {}
    if parts.password is None and target.password is not None:      # REDIS_PASSWORD: into the URL kombu reads
        host = parts.netloc.rpartition("@")[2]
        return parts._replace(netloc=_userinfo(target, target.password) + host).geturl(), {}
    return target.url, {}
