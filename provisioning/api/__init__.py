"""REST API of provisioning: /api/v1/provisioning/."""
