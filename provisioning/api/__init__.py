"""REST API of provisioning, under /api/v1/ (included by pacingsite/urls.py): the config doctor, provisioning,
the environment file and template import."""
