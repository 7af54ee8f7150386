"""Interaction Server clusters: the vocabulary every part shares (model rules, admin, API, wizard, doctor).

Pure Python, no database: what the vendor's words mean as data, so that the model's ``clean()``, the cluster
wizard and the config doctor cannot disagree (seeds/interaction-server-deployment.txt, "Interaction Server
Cluster").

The vendor's configuration, as we read it:

- An *Interaction Server cluster* is an Application of type Application Cluster whose option
  ``[cluster-settings] cluster-type`` is ``Interaction Server``; it holds **connections to every primary
  Interaction Server** of the cluster (step 5 b–c). An *Interaction Server Proxy cluster* is one whose
  ``cluster-type`` is ``Interaction Server Proxy``; it holds connections to every primary proxy (5 d–e).
- A proxy is created "using the Interaction Server application type" (step 3), and Interaction Server Proxy
  "connects only to Interaction Servers configured with the Interaction Server application type". So proxies and
  servers share one application type and are told apart by the cluster that lists them.
- Each node is a primary/backup pair (``backup_server``), with its own interaction and event-log databases.
- ``[cluster-settings] media-types`` on a server: a comma-separated list of the media it serves; absent means
  every media type of the tenant (5 a).

Ours (the vendor is silent):

- A proxy that no proxy cluster lists yet (between steps 3 and 5) is recognised by its
  ``component_type`` :data:`PROXY_COMPONENT` — the field Configuration Server keeps for an application's
  component; the wizard and the demo set it. The older separate application type ``interaction_server_proxy``
  is gone: a migration turned such applications into Interaction Servers with that component type, and imports
  of older exports map it the same way (:data:`LEGACY_PROXY_TYPE`).
- A ``media-types`` list must not contain empty items, and its items are media type names as the tenant keeps
  them (case kept, as for ``pacing/media``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SECTION = "cluster-settings"
CLUSTER_TYPE = "cluster-type"
MEDIA_TYPES = "media-types"
CLUSTER_TYPE_PATH = f"{SECTION}/{CLUSTER_TYPE}"
MEDIA_TYPES_PATH = f"{SECTION}/{MEDIA_TYPES}"

#: the values of [cluster-settings] cluster-type the seed names
SERVER_CLUSTER = "Interaction Server"
PROXY_CLUSTER = "Interaction Server Proxy"
CLUSTER_TYPES = (SERVER_CLUSTER, PROXY_CLUSTER)

#: ours: the component type that marks an Interaction Server application as a proxy before a cluster lists it
PROXY_COMPONENT = "Interaction Server Proxy"
#: the application type an older export may still carry for a proxy (mapped to Interaction Server + PROXY_COMPONENT)
LEGACY_PROXY_TYPE = "interaction_server_proxy"

#: the licence option of the seed's "Licensing" (agent seats a node checks out)
LICENCE_SECTION = "license"
LICENCE_OPTION = "ics_multi_media_agent_seat"
#: ours: the agent seats the licence server grants the cluster (the vendor keeps that in the licence file, not in
#: Configuration Server); an option of the Interaction Server cluster application, so the capacity can be shown
AVAILABLE_SEATS_OPTION = "available-agent-seats"

#: minimum releases for a cluster (seed: "Starting with release 8.5.106.x of Interaction Server and 8.5.107.x of
#: Interaction Server Proxy")
MIN_SERVER_VERSION = (8, 5, 106)
MIN_PROXY_VERSION = (8, 5, 107)
#: login-session-timeout and snapshots exist from this release
SNAPSHOT_VERSION = (8, 5, 107)


@dataclass(frozen=True)
class ProxyError:
    code: int
    description: str
    #: ours: what in the configuration (if anything) makes the proxy answer with this code
    caused_by: str


#: the proxy's error codes (seed, "Error Codes"), with the misconfiguration that leads to each (ours)
PROXY_ERRORS: tuple[ProxyError, ...] = (
    ProxyError(2000, "Unsupported operation",
               "A client sends a request the proxy does not support, e.g. a monitoring Ping (connect monitors to "
               "the servers directly)."),
    ProxyError(2001, "There are no servers accepting this media/tenant",
               "No server of the cluster serves the tenant, or no server's media-types lists the media type (or "
               "the media type is disabled: the proxy refuses submissions of a disabled media type)."),
    ProxyError(2002, "Lost connection to one of the asked servers",
               "A node (primary and backup) is down or unreachable; a node without a backup makes this likely."),
    ProxyError(2003, "Interaction not accessible",
               "Some node did not answer while the proxy looked for an interaction (a switchover, a node down)."),
    ProxyError(2004, "Operation already in progress", "A second request for the same agent or interaction."),
    ProxyError(2005, "More than one server contain interaction with same ID",
               "Clients generate their own interaction IDs without guaranteeing they are unique."),
    ProxyError(2006, "Snapshot not accessible",
               "A snapshot request to a cluster whose servers are older than 8.5.107."),
)
PROXY_ERRORS_BY_CODE: Mapping[int, ProxyError] = {e.code: e for e in PROXY_ERRORS}


def parse_media_types(value: str) -> tuple[str, ...]:
    """``media-types`` as a tuple of names; ValueError naming the problem for an empty item or a duplicate.

    ``"chat, email"`` → ``("chat", "email")``. Blanks around names are dropped (GAX users type them)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("is empty: list the media types this server serves, separated by commas, or remove the "
                         "option (absent means every media type of the tenant)")
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ValueError(f"{value!r} has an empty item: separate media type names by single commas")
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ValueError(f"{value!r} names {item!r} twice")
        seen.add(item)
    return tuple(items)


def cluster_type(options: Mapping | None) -> str | None:
    """An Application Cluster's [cluster-settings] cluster-type, or None when unset."""
    section = options.get(SECTION) if isinstance(options, Mapping) else None
    value = section.get(CLUSTER_TYPE) if isinstance(section, Mapping) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def media_types(options: Mapping | None) -> tuple[str, ...] | None:
    """A server's [cluster-settings] media-types, or None (every media type of the tenant) when absent.

    ValueError when present but malformed (the model refuses to save such a value)."""
    section = options.get(SECTION) if isinstance(options, Mapping) else None
    if not isinstance(section, Mapping) or MEDIA_TYPES not in section:
        return None
    return parse_media_types(section[MEDIA_TYPES])


def parse_version(text: str) -> tuple[int, ...] | None:
    """``"8.5.107.12"`` → ``(8, 5, 107, 12)``; None for an empty or non-numeric version.

    Genesys numbers the builds of a release by hundreds: 8.5.106 is a build of 8.5.1, 8.5.300 the first of 8.5.3.
    So a release written short, as the seed writes it ("8.5.2", "8.5.3"), is read as its first build: ``"8.5.3"``
    → ``(8, 5, 300)``, which compares as the vendor means it (8.5.106 is older than 8.5.2)."""
    parts = (text or "").strip().split(".")
    if not parts or not all(p.isdigit() for p in parts):
        return None
    numbers = [int(p) for p in parts]
    if len(numbers) >= 3 and len(parts[2]) == 1:
        numbers[2] *= 100
    return tuple(numbers)


def at_least(version: str, minimum: Sequence[int]) -> bool | None:
    """Whether ``version`` is ``minimum`` or later; None when the version cannot be read."""
    parsed = parse_version(version)
    if parsed is None:
        return None
    return parsed[:len(minimum)] >= tuple(minimum)


@dataclass(frozen=True)
class LicenceAllocation:
    node: str
    configured: int | None
    allocated: int


@dataclass(frozen=True)
class LicenceCapacity:
    available: int
    nodes: tuple[LicenceAllocation, ...]

    @property
    def capacity(self) -> int:
        """Agents who can log in to the cluster: the lowest allocation (an agent logs in on every node)."""
        return min((n.allocated for n in self.nodes), default=0)


def licence_capacity(available: int, configured: Iterable[tuple[str, int | None]]) -> LicenceCapacity:
    """The seed's licensing rule: each node (primary/backup pair) checks out what it is configured for, in order,
    from the ``available`` agent seats; the last ones get what is left. The cluster's capacity is the lowest
    allocation, because the proxy logs each agent in on every node and a refused login on one node revokes the
    others. Seed example: 100 seats, four nodes at 30 → 30, 30, 30, 10 → capacity 10.

    ``configured`` is (node name, ics_multi_media_agent_seat or None when unset). Ours: an unset option asks for
    whatever is left (Interaction Server then checks out what the licence server grants)."""
    if available < 0:
        raise ValueError("available seats must not be negative")
    left = available
    nodes = []
    for name, wanted in configured:
        if wanted is not None and wanted < 0:
            raise ValueError(f"{name}: {LICENCE_OPTION} must not be negative")
        take = left if wanted is None else min(wanted, left)
        nodes.append(LicenceAllocation(name, wanted, take))
        left -= take
    return LicenceCapacity(available, tuple(nodes))
