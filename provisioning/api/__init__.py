"""The provisioning API under /api/v1/provisioning/ (included by pacingsite/urls.py)."""
