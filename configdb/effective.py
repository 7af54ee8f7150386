"""The options a pacing node runs with: its cluster's, with the node's own on top.

The seed (pacing-deployment-guide.txt, "Pacing service") says the Application Cluster holds "descriptions
of all of the options (which are inherited by the nodes)", and that a node is a Genesys Generic Server whose
connection is to its cluster. It does not say what happens when a node sets an option itself. Ours: **an
option set on the node wins, key by key** — a node's ``metrics/GcLatency.threshold`` replaces the cluster's
for that node, every other key of ``metrics`` still comes from the cluster. A key the node sets to an empty
string is set (empty wins too); to inherit again, delete the node's key.

One function, shared by the alarm monitors, the pacing runtime and the config doctor, so the three never
disagree about what a node is configured with.
"""

from __future__ import annotations

from .models import Application, ApplicationType, Connection

__all__ = ["cluster_of", "effective_options", "message_servers"]

Options = dict[str, dict[str, str]]


def cluster_of(app: Application) -> Application | None:
    """The Application Cluster ``app`` belongs to.

    A cluster is its own cluster. Any other application belongs to the cluster it has a connection to (a
    node's only connection, per the seed); if it connects to several clusters, the first by name (ours; an
    ambiguity worth a config-doctor warning). None when it connects to no cluster. One query at most.
    """
    if app.app_type == ApplicationType.APPLICATION_CLUSTER:
        return app
    if app.pk is None:
        return None
    connection = (Connection.objects.filter(application=app, server__app_type=ApplicationType.APPLICATION_CLUSTER)
                  .select_related("server").order_by("server__name", "pk").first())
    return connection.server if connection else None


def effective_options(app: Application, cluster: Application | None = None) -> Options:
    """``section → key → value`` for ``app``: its cluster's options with the node's own keys on top.

    ``cluster``: pass it when already known (saves the query of ``cluster_of``). The result is a new dict;
    changing it changes neither application.
    """
    cluster = cluster if cluster is not None else cluster_of(app)
    merged: Options = {}
    if cluster is not None and cluster.pk != app.pk:
        for section, keys in (cluster.options or {}).items():
            merged[section] = dict(keys)
    for section, keys in (app.options or {}).items():
        merged.setdefault(section, {}).update(keys)
    return merged


def message_servers(app: Application, cluster: Application | None = None) -> list[Application]:
    """The Message Server applications ``app`` or its cluster has a connection to, by name.

    The seed: "add a connection to Message Server (to apply the network logging options)"; the connection may
    be the node's own or, as in the seed's example, the cluster's. One query (plus ``cluster_of``'s).
    """
    cluster = cluster if cluster is not None else cluster_of(app)
    ids = [a.pk for a in (app, cluster) if a is not None and a.pk is not None]
    if not ids:
        return []
    return list(Application.objects.filter(app_type=ApplicationType.MESSAGE_SERVER,
                                           connected_from__application_id__in=ids)
                .distinct().order_by("name", "pk"))
