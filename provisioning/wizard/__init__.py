"""The deployment wizard: the nine steps of the seed's "Deploy Pacing Server", each reachable from the admin
(provisioning/wizard/admin_views.py) and the API (provisioning/api/wizard.py). See docs/wizard.md."""
