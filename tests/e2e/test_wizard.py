"""The deployment wizard clicked through in real Chromium, from the admin home to the summary, on the demo
configuration without its pacing cluster (provisioning/wizard/, docs/wizard.md)."""

from __future__ import annotations

from configdb.models import Connection
from tests.e2e.helpers import strip_pacing_cluster, walk_deploy_wizard

CLUSTER = "Browser_Cluster"


def test_click_through_the_wizard_to_the_summary(demo, admin_page, live_server):
    strip_pacing_cluster()
    walk_deploy_wizard(admin_page, live_server, CLUSTER, "Browser_Node_1")
    assert Connection.objects.filter(application__name="Browser_Node_1", server__name=CLUSTER).exists()
