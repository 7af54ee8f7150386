"""An Interaction Server cluster as stored: its nodes and their licence allocation (the admin's cluster page and
``GET /api/v1/applications/<id>/licence-capacity/`` read the same report).

The vendor (seeds/interaction-server-deployment.txt, "Interaction Server Cluster", step 5 b–c, and "Licensing"):
the Interaction Server cluster is an Application Cluster whose ``[cluster-settings] cluster-type`` is ``Interaction
Server``, with a connection to every primary Interaction Server; each node is a primary/backup pair (the primary's
``backup_server``); each server checks out ``[license] ics_multi_media_agent_seat`` agent seats; a pair shares its
licences under one licence group, the primary's DBID; the cluster's capacity is the lowest allocation
(configdb.interaction_server.licence_capacity).

Ours: the seats the licence server grants the cluster are the cluster's option ``[license] available-agent-seats``
(the vendor keeps them in the licence file, which Configuration Server never sees); nodes are counted in the order
of the primary servers' names (the vendor does not say which node checks out first); the DBID shown is the
primary's id in this console. A value that is not a whole number is reported on its node and counted as unset.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import interaction_server as ixn
from .models import Application, ApplicationType, Connection

#: the seed's licence rules, in words (shown with the capacity on the cluster page and in the API)
LICENCE_RULES = (
    f"Each Interaction Server checks out the agent seats its option [{ixn.LICENCE_SECTION}] {ixn.LICENCE_OPTION} "
    "asks for, from the agent-seat licences the licence server grants (vendor).",
    "The cluster needs the sum of the seats configured for every primary/backup pair: nodes do not share licences; "
    "a pair shares its licences under one licence group, the DBID of its primary server (vendor).",
    "The lowest allocation of any node is the capacity of the cluster: the proxy logs each agent in on every node, "
    "and a login refused on one node (licences exceeded) revokes that agent's logins on the other nodes (vendor).",
    "Lowering the count on a running node can log agents out of the cluster, when the new limit is below the "
    "number of agents logged in on that node (vendor).",
    f"The seats granted to the cluster are read from the cluster's option [{ixn.LICENCE_SECTION}] "
    f"{ixn.AVAILABLE_SEATS_OPTION} (ours: the licence file is not in Configuration Server).",
)


def is_server_cluster(app: Application) -> bool:
    return (app.app_type == ApplicationType.APPLICATION_CLUSTER
            and ixn.cluster_type(app.options) == ixn.SERVER_CLUSTER)


def _seats(options, key: str) -> tuple[int | None, str]:
    """(whole number or None, problem) of ``[license] key``."""
    section = (options or {}).get(ixn.LICENCE_SECTION)
    raw = section.get(key) if isinstance(section, dict) else None
    if raw is None or not str(raw).strip():
        return None, ""
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit():
        return None, f"[{ixn.LICENCE_SECTION}] {key} {raw!r} is not a whole number (counted as unset)."
    return int(text), ""


@dataclass(frozen=True)
class NodeRow:
    primary: Application
    backup: Application | None
    configured: int | None
    allocated: int | None
    problem: str

    def as_dict(self) -> dict:
        return {"primary": self.primary.name, "primary_id": self.primary.pk, "licence_group": self.primary.pk,
                "backup": self.backup.name if self.backup else None, "configured": self.configured,
                "allocated": self.allocated, "problem": self.problem}


@dataclass(frozen=True)
class LicenceReport:
    cluster: Application
    available: int | None
    available_problem: str
    nodes: tuple[NodeRow, ...]
    capacity: int | None

    def as_dict(self) -> dict:
        return {"cluster": self.cluster.name, "cluster_id": self.cluster.pk, "available_seats": self.available,
                "available_seats_problem": self.available_problem, "capacity": self.capacity,
                "nodes": [n.as_dict() for n in self.nodes], "rules": list(LICENCE_RULES)}


def primaries(cluster: Application, user=None) -> list[Application]:
    """The Interaction Servers the cluster's connections name (its primary servers), by name; only those ``user``
    may read (None: all)."""
    visible = Application.objects.restrict(user, "view") if user is not None else Application.objects.all()
    ids = Connection.objects.filter(application=cluster, server__in=visible.values("pk")).values("server_id")
    return list(Application.objects.filter(pk__in=ids, app_type=ApplicationType.INTERACTION_SERVER)
                .select_related("backup_server").order_by("name", "pk"))


def licence_report(cluster: Application, user=None) -> LicenceReport:
    """Each node's configured and allocated seats and the cluster's capacity (seed: 100 seats, four nodes at 30 →
    30, 30, 30, 10 → 10). Without ``available-agent-seats`` nothing is allocated and the capacity is the lowest
    configured count (None when a node has none)."""
    available, available_problem = _seats(cluster.options, ixn.AVAILABLE_SEATS_OPTION)
    servers = primaries(cluster, user)
    configured = []
    for server in servers:
        seats, problem = _seats(server.options, ixn.LICENCE_OPTION)
        configured.append((server, seats, problem))
    if available is not None:
        result = ixn.licence_capacity(available, [(s.name, seats) for s, seats, _ in configured])
        allocated = [n.allocated for n in result.nodes]
        capacity = result.capacity if servers else None
    else:
        allocated = [None] * len(configured)
        counts = [seats for _, seats, _ in configured]
        capacity = min(counts) if counts and None not in counts else None
    rows = tuple(NodeRow(s, s.backup_server, seats, alloc, problem)
                 for (s, seats, problem), alloc in zip(configured, allocated, strict=True))
    return LicenceReport(cluster, available, available_problem, rows, capacity)
