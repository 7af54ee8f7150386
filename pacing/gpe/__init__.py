"""The pacing service's side of the GPE pacing exchange (OURS; docs/gpe-protocol.md).

``protocol``: the one encoder/decoder of the exchange, shared with the GPE simulator (no Django, no
requests). ``client``: ``GPEClient`` on requests (OAuth client credentials, the pacing post, the typed
errors the cycle turns into alarms) and ``config_from_options`` (the ``hybrid_integration`` transaction and
the cluster's options -> ``ClientConfig``).
"""
