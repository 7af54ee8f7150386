"""A pacing node's launch settings as an environment file: our ``launcher.ini`` / ``setenv.sh``.

The seed (pacing-provisioning.txt, "Files specific to Pacing Server") says the provisioning tool fills in
"pacing-related placeholder values" in ``launcher.ini``, ``setenv.bat`` and ``setenv.sh`` of the installation.
Our nodes are Celery workers configured by the environment (pacingsite/settings.py, docs/runtime.md), so the
same role is one file of ``NAME=value`` lines, rendered from the configuration and returned as text (nothing
is written to disk; the API serves it as a download). Ours, all of it.

Secrets are never written into it: the database and Redis URLs lose their passwords (``CHANGE_ME``), and the
keys a node must share with the console (``SECRET_KEY``, ``PACING_SECRETS_KEY``, and ``REDIS_PASSWORD`` /
``REDIS_SENTINEL_PASSWORD`` when the console has them) are named, left empty, for the operator to copy from the
console's own environment.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.utils import timezone

from configdb import redis_target

from .services import ProvisioningError, resolve

__all__ = ["environment_file", "without_password"]

PLACEHOLDER = "CHANGE_ME"


def without_password(url: str) -> str:
    """``url`` with its password (if any) replaced by CHANGE_ME; a URL that does not parse is left out whole."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{user}:{PLACEHOLDER}@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    except ValueError:
        return PLACEHOLDER


def _quote(value: str) -> str:
    """A value safe for ``set -a; . file`` and for docker's ``--env-file`` alike: plain when it can be."""
    if value and all(c.isalnum() or c in "_-./:@%+,=[]" for c in value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def environment_file(app_name: str, *, user=None) -> str:
    """The environment file of pacing node ``app_name`` (ProvisioningError for a cluster or an unknown name)."""
    app, cluster = resolve(app_name, user)
    if app.pk == cluster.pk:
        nodes = sorted(cluster.connected_from.filter(application__app_type="genesys_generic_server")
                       .values_list("application__name", flat=True))
        raise ProvisioningError(f"'{app_name}' is the cluster; an environment file is a node's: name one of its "
                                f"nodes ({', '.join(nodes) or 'it has none yet'}).")
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{settings.DATABASES['default']['NAME']}"
    redis_url = settings.REDIS_URL
    ports = ", ".join(f"{p.port_id} {p.port}{'/' + p.connection_protocol if p.connection_protocol else ''}"
                      for p in app.ports.order_by("port_id")) or "none"
    lines = [
        f"# Pacing node '{app.name}' of cluster '{cluster.name}' (host {app.host or 'none'}; ports {ports}).",
        f"# Rendered by the Pacing Console's provisioning, {timezone.now():%Y-%m-%d %H:%M} UTC. Start the node with:",
        "#   set -a; . ./pacing-node.env; set +a",
        '#   celery -A pacingsite.celery:app worker --beat -n "$PACING_NODE_NAME@%h"',
        "",
        "# The node's application in the configuration: its options and its cluster's (metrics, log).",
        f"PACING_NODE_APPLICATION={_quote(app.name)}",
        "# The node's name (Celery's -n <name>@%h); unique per node.",
        f"PACING_NODE_NAME={_quote(app.name)}",
        "# The same database and Redis as the console's web UI; passwords are never written here.",
        f"DATABASE_URL={_quote(without_password(database))}",
    ]
    if database.startswith("sqlite"):
        lines.append("# (SQLite: only nodes on the console's own machine can share it; use PostgreSQL otherwise.)")
    if redis_url:
        # redis_target's redaction: it knows the multi-host redis+sentinel:// form (REDIS_SENTINELS are written as it)
        lines.append(f"REDIS_URL={_quote(redis_target.redacted(redis_url))}")
    else:
        lines += ["# The console runs an embedded Redis; nodes on other machines need a shared one:",
                  "REDIS_URL="]
    lines += [
        "# Copy these from the console's environment (never written here): the node decrypts the",
        "# hybrid_integration secrets with PACING_SECRETS_KEY.",
        "SECRET_KEY=",
        "PACING_SECRETS_KEY=",
        *[f"{name}=" for name in ("REDIS_PASSWORD", "REDIS_SENTINEL_PASSWORD") if getattr(settings, name, "")],
        "PACING_PRODUCTION=1",
        "",
    ]
    return "\n".join(lines)
